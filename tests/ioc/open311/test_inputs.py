"""The parsers of what citizens send: unit cases and properties (any input is a value or an InvalidInput)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smartcity.app import create_app
from smartcity.hub.store import open_store
from smartcity.ioc.open311 import wire
from smartcity.ioc.open311.catalogue import Catalogue
from smartcity.ioc.open311.errors import InvalidInput
from smartcity.ioc.open311.inputs import (
    check_attributes,
    clean_text,
    collect_attributes,
    parse_coordinates,
    parse_datetime,
    parse_submission,
)
from smartcity.ioc.open311.wards import fold
from tests.ioc.open311.support import BEN_THANH, load_wards
from tests.open_hub import open_settings

CATALOGUE = Catalogue.packaged()
SERVICE_CODES = [s.code for s in CATALOGUE]
FIELD_NAMES = [
    "service_code",
    "lat",
    "long",
    "address_string",
    "description",
    "email",
    "phone",
    "first_name",
    "media_url",
    "api_key",
    "jurisdiction_id",
    "attribute[depth]",
    "attribute[kind]",
    "attribute[problem][]",
    "attribute[people]",
    "attribute[since]",
    "attribute[",
    "attribute[x][y]",
]
NASTY = st.sampled_from(
    [
        "<script>",
        "javascript:",
        "\x00",
        "\u202e",
        "1e309",
        "nan",
        "-0",
        "999",
        "10.77",
        "106.69",
        "",
        " ",
        "Phường Bến Thành",
    ]
)
TEXT = st.one_of(st.text(max_size=60), NASTY)


def test_clean_text_examples() -> None:
    assert clean_text("  Ngập  sâu ", "d", 100) == "Ngập  sâu"
    assert clean_text("a < b and c > d & e", "d", 100) == "a < b and c > d & e"
    for bad in ("<b>", "< script>", "</p>", "<!-- x -->", "<?php", "JaVaScRiPt :x", "&#x3C;", "&lt;", "x\u202ey"):
        with pytest.raises(InvalidInput):
            clean_text(bad, "d", 100)
    with pytest.raises(InvalidInput):
        clean_text("a\nb", "d", 100)
    assert clean_text("a\nb", "d", 100, multiline=True) == "a\nb"


def test_fold_ignores_accents_case_and_punctuation() -> None:
    assert fold("Phường Bến Thành") == fold("PHUONG BEN-THANH") == fold("phường  bến thành!")
    assert fold("Phường Bến Thành") == "phuong ben thanh"
    assert fold("Xã Bình Chánh, TP.HCM") == "xa binh chanh tp hcm"
    assert fold("Đặc khu Côn Đảo") == "dac khu con dao"


def test_parse_datetime_needs_a_zone() -> None:
    assert parse_datetime("2026-03-01T08:00:00+07:00", "x").isoformat() == "2026-03-01T01:00:00+00:00"
    with pytest.raises(InvalidInput):
        parse_datetime("2026-03-01T08:00:00", "x")


@given(st.text(max_size=300), st.booleans())
def test_clean_text_returns_safe_text_or_refuses(text: str, multiline: bool) -> None:
    try:
        out = clean_text(text, "f", 200, multiline=multiline)
    except InvalidInput:
        return
    assert len(out) <= 200 and "<script" not in out.lower() and "\x00" not in out


@given(st.one_of(st.none(), TEXT, st.floats().map(str)), st.one_of(st.none(), TEXT, st.floats().map(str)))
def test_coordinates_are_in_range_or_refused(lat: str | None, lon: str | None) -> None:
    try:
        found = parse_coordinates(lat, lon)
    except InvalidInput:
        return
    if found is not None:
        assert -90 <= found[0] <= 90 and -180 <= found[1] <= 180


@given(
    st.sampled_from(SERVICE_CODES),
    st.dictionaries(
        st.sampled_from(["depth", "kind", "people", "since", "problem", "source", "blocking", "pole_number", "nope"]),
        st.lists(TEXT, max_size=3),
        max_size=4,
    ),
)
def test_attribute_values_match_the_definition_or_are_refused(code: str, given_values: dict[str, list[str]]) -> None:
    service = CATALOGUE.get(code)
    assert service is not None
    try:
        checked = check_attributes(service, given_values)
    except InvalidInput:
        return
    for name, value in checked.items():
        attribute = service.attribute(name)
        assert attribute is not None
        if attribute.datatype == "singlevaluelist":
            assert attribute.choice(str(value)) is not None
        if attribute.datatype == "multivaluelist":
            assert isinstance(value, list) and all(attribute.choice(v) is not None for v in value)
        if attribute.datatype == "number":
            assert attribute.minimum is None or float(str(value)) >= attribute.minimum
    assert all(a.code in checked for a in service.attributes if a.required)


@given(st.lists(st.tuples(st.one_of(st.sampled_from(FIELD_NAMES), st.text(max_size=20)), TEXT), max_size=30))
def test_any_form_parses_or_is_refused(pairs: list[tuple[str, str]]) -> None:
    try:
        submission = parse_submission(pairs)
        collect_attributes(pairs)
    except InvalidInput as exc:
        assert exc.status == 400 and exc.detail
        return
    assert submission.service_code


@given(st.text(max_size=200), st.text(max_size=200))
def test_xml_is_always_well_formed(a: str, b: str) -> None:
    import xml.etree.ElementTree as ET

    document = wire.to_xml("service_requests", "request", [{"description": a, "address": b, "lat": None}])
    root = ET.fromstring(document)
    assert root.find("request") is not None


@pytest.fixture(scope="module")
def property_client(tmp_path_factory: pytest.TempPathFactory) -> object:
    tmp = Path(tmp_path_factory.mktemp("o311prop"))
    store = open_store(f"sqlite:///{tmp}/h.db")
    app = create_app(
        open_settings(database_url="sqlite:///unused.db", media_dir=str(tmp / "media"), max_photo_bytes=50_000),
        store=store,
    )
    with TestClient(app) as client:
        load_wards(client, {BEN_THANH[0]})
        yield client
    store.close()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.dictionaries(st.sampled_from(FIELD_NAMES), TEXT, max_size=8),
    st.sampled_from(["json", "xml"]),
)
def test_the_api_never_answers_500(property_client: TestClient, form: dict[str, str], fmt: str) -> None:
    r = property_client.post(f"/open311/v2/requests.{fmt}", data=form)
    assert r.status_code in (201, 400, 403, 404), r.text
    q = property_client.get(
        f"/open311/v2/requests.{fmt}",
        params={k: v for k, v in form.items() if k in ("lat", "long")} | {"status": form.get("description", "open")},
    )
    assert q.status_code in (200, 400), q.text
