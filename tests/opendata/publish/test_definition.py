"""Publication definitions: the shipped ones are valid and at least eight, every rule of the format is checked with
a clear error, and no document makes the parser fail otherwise (hypothesis)."""

from __future__ import annotations

import copy
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]
from hypothesis import given, settings
from hypothesis import strategies as st

from smartcity.opendata.publish.definition import DefinitionInvalid, parse_publication
from smartcity.opendata.publish.files import load_directory, parse_text, shipped_directory

CURRENT: dict[str, Any] = {
    "id": "stops",
    "mode": "current",
    "modelled": False,
    "dataset": {
        "title": {"vi": "Trạm", "en": "Stops"},
        "notes": {"vi": "Các trạm", "en": "The stops"},
        "organization": "so-giao-thong-van-tai",
        "groups": ["transport"],
        "tags": ["bus"],
        "license": "CC-BY-4.0",
        "frequency": "daily",
    },
    "source": {"type": "PublicTransportStop", "q": 'status=="active"'},
    "columns": [
        {"id": "stop_id", "from": "entity"},
        {"id": "name", "attr": "name", "type": "text"},
        {"id": "location", "attr": "location", "type": "geometry"},
    ],
    "privacy": {"round_coordinates": 4, "drop": ["address.streetAddress"]},
}
HISTORY: dict[str, Any] = {
    **CURRENT,
    "id": "levels",
    "mode": "history",
    "history": {"period": "PT1H", "lookback": "PT6H", "backfill": "P7D"},
    "columns": [
        {"id": "gauge", "from": "entity"},
        {"id": "hour", "from": "period_start"},
        {"id": "level_avg", "attr": "currentLevel", "aggregate": "avg"},
        {"id": "n", "attr": "currentLevel", "aggregate": "count"},
    ],
    "privacy": {"delay": "PT2H"},
}


def _with(doc: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    out = copy.deepcopy(doc)
    *parents, last = path.split(".")
    target: Any = out
    for key in parents:
        target = target[int(key)] if isinstance(target, list) else target[key]
    if value is None:
        del target[last]
    elif isinstance(target, list):
        target[int(last)] = value
    else:
        target[last] = value
    return out


def test_the_demo_ships_at_least_eight_valid_publications_of_both_modes() -> None:
    publications = load_directory(shipped_directory())
    assert len(publications) >= 8
    assert {p.mode for p in publications} == {"current", "history"}
    by_id = {p.id: p for p in publications}
    buses = by_id["buses-in-service-hourly"]
    assert buses.privacy.aggregate is not None and buses.privacy.aggregate.min_group_size >= 2
    assert buses.privacy.delay >= timedelta(hours=1) and not buses.has_geometry
    assert "location" not in [c.attr for c in buses.columns if c.aggregate is None]
    assert by_id["wards"].has_geometry and by_id["car-parks-now"].privacy.round_coordinates == 5


def test_shipped_publications_name_organisations_groups_and_licences_the_catalogue_knows() -> None:
    reference = Path(__file__).parents[3] / "src/smartcity/opendata/catalogue/data/reference.yaml"
    if not reference.exists():
        pytest.skip("the catalogue's reference data is not there")
    data = yaml.safe_load(reference.read_text(encoding="utf-8"))
    organisations = {o["name"] for o in data["organizations"]}
    groups = {g["name"] for g in data["groups"]}
    licences = {item["id"] for item in data["licenses"]}
    for pub in load_directory(shipped_directory()):
        assert pub.dataset.organization in organisations, pub.id
        assert set(pub.dataset.groups) <= groups, pub.id
        assert pub.dataset.license in licences, pub.id


def test_a_valid_definition_of_each_mode() -> None:
    current = parse_publication(CURRENT)
    assert current.key == ("stop_id",) and current.has_geometry and current.source.q == 'status=="active"'
    assert current.privacy.dropped_keys("address") == ("streetAddress",)
    history = parse_publication(HISTORY)
    assert history.key == ("gauge", "hour") and history.history is not None
    assert history.history.period == timedelta(hours=1) and history.privacy.delay == timedelta(hours=2)
    assert [c.type for c in history.columns] == ["text", "timestamp", "float", "int"]


@pytest.mark.parametrize(
    ("doc", "path", "value", "message"),
    [
        (CURRENT, "colour", "red", "unknown field(s) colour (allowed: id, mode"),
        (CURRENT, "id", "Bad Id", "id: 'Bad Id' must be 2-100 characters"),
        (CURRENT, "mode", "live", "mode: must be one of current, history"),
        (CURRENT, "modelled", None, "modelled: say whether the values are modelled"),
        (CURRENT, "dataset.title", {"vi": "Trạm"}, "dataset.title.en: must be a non-empty text"),
        (CURRENT, "dataset.frequency", "sometimes", "dataset.frequency: 'sometimes' must be one of"),
        (CURRENT, "dataset.spatial", [107, 10, 106, 11], "dataset.spatial: must be a box"),
        (CURRENT, "columns.1.type", None, "columns[1] (name).type: give the column's type"),
        (CURRENT, "columns.1.type", "varchar", "columns[1] (name).type: give the column's type"),
        (CURRENT, "columns.1.id", "Name", "columns[1].id: 'Name' must start with a-z"),
        (CURRENT, "columns.1.attr", "na me", "must be a compact NGSI-LD name"),
        (CURRENT, "columns.0", {"id": "stop_id", "from": "nowhere"}, "columns[0] (stop_id).from: must be one of"),
        (CURRENT, "columns.2.id", "name", "column id(s) used twice: name"),
        (CURRENT, "columns.0", {"id": "n", "attr": "name", "type": "text"}, "needs the entity column"),
        (CURRENT, "columns.1", {"id": "a", "attr": "x", "aggregate": "avg"}, "aggregates need mode: history"),
        (CURRENT, "privacy.delay", "PT1H", "privacy.delay: the current state cannot be delayed"),
        (CURRENT, "privacy.round_coordinates", 9, "privacy.round_coordinates: must be a number of decimals"),
        (CURRENT, "privacy.drop", ["name"], "columns (name): reads name, which privacy.drop removes"),
        (CURRENT, "privacy.aggregate", {"by": "x"}, "privacy.aggregate: aggregates per group need mode: history"),
        (CURRENT, "history", {"period": "PT1H"}, "history: goes with mode: history only"),
        (CURRENT, "schedule", "PT10S", "schedule: must be at least PT1M"),
        (CURRENT, "schedule", "P1M", "schedule: 'P1M': months and years have no fixed length"),
        (CURRENT, "schedule", "soon", "schedule: 'soon' is not an ISO 8601 duration"),
        (HISTORY, "history.period", "PT7M", "history.period: must divide a day evenly"),
        (HISTORY, "history.lookback", "PT90M", "history.lookback: must be a whole number of periods"),
        (HISTORY, "history.backfill", "PT1H", "history.backfill: must be at least the lookback"),
        (HISTORY, "columns.1", {"id": "hour", "from": "period_end"}, "a history needs its period"),
        (
            HISTORY,
            "columns",
            [
                {"id": "g", "from": "entity"},
                {"id": "h", "from": "period_start"},
                {"id": "v", "attr": "v", "type": "int"},
            ],
            "a history publishes at least one aggregate",
        ),
        (HISTORY, "columns.2", {"id": "x", "attr": "a", "aggregate": "median"}, "aggregate: must be one of"),
        (HISTORY, "columns.2", {"id": "x", "attr": "a", "aggregate": "avg", "type": "text"}, "is a number"),
        (HISTORY, "columns.2", {"id": "x", "attr": "a", "aggregate": "entities"}, "counts the entities of a group"),
        (HISTORY, "columns.2", {"id": "x", "from": "group"}, "a group column needs privacy.aggregate"),
        (HISTORY, "privacy.aggregate", {"by": "route", "min_group_size": 0}, "min_group_size: must be a whole"),
        (HISTORY, "privacy.aggregate", {"by": "route"}, "an aggregate per group publishes no entity ids"),
    ],
)
def test_each_rule_gives_a_clear_error(doc: dict[str, Any], path: str, value: Any, message: str) -> None:
    with pytest.raises(DefinitionInvalid) as caught:
        parse_publication(_with(doc, path, value))
    assert message in str(caught.value)


def test_an_aggregate_per_group_publishes_groups_only() -> None:
    doc = _with(HISTORY, "privacy.aggregate", {"by": "routeNumber", "min_group_size": 3})
    doc["columns"] = [
        {"id": "route", "from": "group"},
        {"id": "hour", "from": "period_start"},
        {"id": "buses", "attr": "location", "aggregate": "entities"},
    ]
    pub = parse_publication(doc)
    assert pub.key == ("route", "hour") and pub.attrs == ("location", "routeNumber")
    doc["columns"].append({"id": "name", "attr": "name", "type": "text"})
    with pytest.raises(DefinitionInvalid, match="publishes aggregates only"):
        parse_publication(doc)
    doc["columns"][-1] = {"id": "pos", "attr": "location", "type": "geometry"}
    with pytest.raises(DefinitionInvalid, match="publishes aggregates only"):
        parse_publication(doc)
    doc["columns"].pop()
    doc["privacy"]["drop"] = ["routeNumber"]
    with pytest.raises(DefinitionInvalid, match=r"groups by an attribute that privacy\.drop removes"):
        parse_publication(doc)


def test_files_name_the_file_and_the_publication(tmp_path: Path) -> None:
    good = yaml.safe_dump({"publications": [CURRENT, HISTORY]}, allow_unicode=True)
    assert [p.id for p in parse_text(good, "a.yaml")] == ["stops", "levels"]
    with pytest.raises(DefinitionInvalid, match=r"b.yaml, publication levels, columns\[2\] \(level_avg\).aggregate"):
        parse_text(yaml.safe_dump([_with(HISTORY, "columns.2.aggregate", "mode")]), "b.yaml")
    with pytest.raises(DefinitionInvalid, match=r"c\.yaml: not valid YAML"):
        parse_text("id: [unclosed", "c.yaml")
    (tmp_path / "one.yaml").write_text(yaml.safe_dump(CURRENT), encoding="utf-8")
    (tmp_path / "two.yml").write_text(yaml.safe_dump(CURRENT), encoding="utf-8")
    with pytest.raises(DefinitionInvalid, match=r"publication stops is also defined in one\.yaml"):
        load_directory(tmp_path)
    (tmp_path / "two.yml").write_text(yaml.safe_dump(HISTORY) + "---\n" + yaml.safe_dump({**HISTORY, "id": "x2"}))
    assert [p.id for p in load_directory(tmp_path)] == ["stops", "levels", "x2"]
    with pytest.raises(DefinitionInvalid, match="is not a directory"):
        load_directory(tmp_path / "missing")


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 100) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=5),
    max_leaves=25,
)


@settings(max_examples=200, deadline=None)
@given(
    path=st.sampled_from(
        [
            "id",
            "mode",
            "schedule",
            "modelled",
            "dataset",
            "dataset.title",
            "dataset.tags",
            "source",
            "source.q",
            "columns",
            "columns.0",
            "columns.1.type",
            "columns.2.aggregate",
            "privacy",
            "privacy.aggregate",
            "privacy.drop",
            "history",
            "history.period",
            "dataset.spatial",
        ]
    ),
    value=JSONISH,
    base=st.sampled_from([CURRENT, HISTORY]),
)
def test_any_document_is_either_valid_or_a_definition_error(path: str, value: Any, base: dict[str, Any]) -> None:
    try:
        doc = _with(base, path, value if value is not None else "")
    except (KeyError, IndexError, TypeError):
        return
    try:
        parse_publication(doc)
    except DefinitionInvalid as exc:
        assert exc.why
