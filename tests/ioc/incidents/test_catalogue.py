"""The packaged departments, wards and incident types."""

from __future__ import annotations

import json
from typing import Any

import pytest

from smartcity.hub.errors import BadRequestData
from smartcity.ioc.contracts import DEPARTMENTS, DOMAINS, Severity
from smartcity.ioc.incidents.catalogue import packaged, parse_types

CATALOGUE = packaged()

#: the incident types the issue asks for, by the code the platform gives them
REQUIRED = {
    "flooding", "air_pollution", "traffic_congestion", "traffic_accident", "traffic_light_fault", "road_damage",
    "blocked_drain", "fallen_tree", "illegal_dumping", "streetlight_outage", "sidewalk_encroachment", "noise",
    "public_security", "public_health", "admin_complaint", "device_fault", "parking_full", "bus_disruption",
}  # fmt: skip


def test_every_required_type_is_there_with_names_sop_and_sla() -> None:
    assert set(CATALOGUE.types) >= REQUIRED
    for kind in CATALOGUE.types.values():
        assert kind.name_vi and kind.name_en and kind.name_vi != kind.name_en
        assert kind.domain in DOMAINS
        assert CATALOGUE.department(kind.department) is not None
        assert len(kind.checklist) >= 3 and all(i.vi and i.en for i in kind.checklist)
        hours = [kind.sla_hours[s] for s in Severity]  # most severe first: never a longer deadline
        assert hours == sorted(hours), kind.code


def test_urban_order_types_are_ward_bound() -> None:
    for code in ("illegal_dumping", "sidewalk_encroachment", "noise", "admin_complaint"):
        assert CATALOGUE.types[code].ward_bound
    assert not CATALOGUE.types["flooding"].ward_bound
    assert CATALOGUE.default_department(CATALOGUE.types["noise"], "26743") == "ward:26743"
    assert CATALOGUE.default_department(CATALOGUE.types["noise"], None) == "urban_order"
    assert CATALOGUE.default_department(CATALOGUE.types["flooding"], "26743") == "flood_control"


def test_departments_are_the_city_s_and_the_168_ward_units() -> None:
    views = CATALOGUE.departments()
    city = [d for d in views if d["kind"] == "city"]
    wards = [d for d in views if d["kind"] == "ward"]
    assert [d["code"] for d in city] == [d.code for d in DEPARTMENTS]
    assert len(wards) == 168 == len({d["ward"] for d in wards})
    ben_thanh = CATALOGUE.department("ward:26743")
    assert ben_thanh is not None and ben_thanh.name_vi == "UBND Phường Bến Thành"
    assert ben_thanh.name_en == "Ben Thanh Ward People's Committee"
    assert CATALOGUE.department("ward:00000") is None and CATALOGUE.department("nowhere") is None
    with pytest.raises(BadRequestData):
        CATALOGUE.require_department("ward:00000")


def test_every_alert_domain_opens_a_type_of_that_domain_or_a_general_one() -> None:
    for domain in DOMAINS:
        kind = CATALOGUE.type_for_domain(domain)
        assert kind.domain == domain or kind.code == "general"
    assert CATALOGUE.type_for_domain("not-a-domain").code == "general"


def _doc(**change: Any) -> dict[str, Any]:
    kind = {
        "name": {"vi": "a", "en": "b"}, "domain": "flood", "department": "flood_control",
        "sla_hours": {s.value: 1 for s in Severity}, "checklist": [{"id": "x", "vi": "x", "en": "x"}],
    }  # fmt: skip
    kind.update(change)
    return {"types": {"t": kind}, "alert_domains": dict.fromkeys(DOMAINS, "t")}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"domain": "space"}, "unknown domain"),
        ({"department": "nasa"}, "unknown department"),
        ({"sla_hours": {"critical": 1}}, "missing or invalid"),
        ({"sla_hours": {s.value: 0 for s in Severity}}, "positive"),
        ({"checklist": [{"id": "x", "vi": "x", "en": "x"}] * 2}, "unique"),
    ],
)
def test_a_broken_types_file_is_refused_with_a_reason(change: dict[str, Any], message: str) -> None:
    parse_types(_doc())
    with pytest.raises(ValueError, match=message):
        parse_types(_doc(**change))


def test_the_domain_mapping_must_cover_every_domain() -> None:
    doc = _doc()
    del doc["alert_domains"]["flood"]
    with pytest.raises(ValueError, match="flood"):
        parse_types(doc)


def test_the_ward_list_is_derived_from_the_demo_s_official_boundaries() -> None:
    from smartcity.demo import sources

    features = json.loads(sources.text_of(sources.WARDS))["features"]
    expected = sorted((str(f["properties"]["code"]), f["properties"]["fullName"]) for f in features)
    assert sorted((w.code, w.full_name) for w in CATALOGUE.wards.values()) == expected
