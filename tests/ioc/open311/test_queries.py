"""GET requests: filters, the default 90-day window, status from the incident, XML lists."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from tests.ioc.open311.support import BEN_THANH, SAI_GON, FakeDesk, assert_georeport_error, xml

T0 = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)


def at(client: TestClient, moment: datetime) -> None:
    client.app.state.ioc.open311.clock = lambda: moment  # type: ignore[attr-defined]


def report(client: TestClient, code: str, ward: tuple[str, float, float], **extra: str) -> str:
    r = client.post(
        "/open311/v2/requests.json", data={"service_code": code, "lat": str(ward[1]), "long": str(ward[2]), **extra}
    )
    assert r.status_code == 201, r.text
    request_id: str = r.json()[0]["service_request_id"]
    return request_id


def ids(client: TestClient, query: str) -> list[str]:
    r = client.get(f"/open311/v2/requests.json{query}")
    assert r.status_code == 200, r.text
    return [v["service_request_id"] for v in r.json()]


def seed(client: TestClient) -> dict[str, Any]:
    at(client, T0 - timedelta(days=100))
    old = report(client, "MT-RAC", BEN_THANH)
    at(client, T0 - timedelta(days=10))
    noise = report(client, "MT-ONGAN", SAI_GON, **{"attribute[source]": "karaoke"})
    at(client, T0 - timedelta(days=1))
    dumping = report(client, "MT-RAC", SAI_GON)
    at(client, T0)
    return {"old": old, "noise": noise, "dumping": dumping}


def test_default_window_is_the_last_90_days_newest_first(faked: TestClient) -> None:
    made = seed(faked)
    assert ids(faked, "") == [made["dumping"], made["noise"]]
    assert ids(faked, "?start_date=2025-01-01T00:00:00Z") == [made["dumping"], made["noise"], made["old"]]
    end = (T0 - timedelta(days=5)).strftime("%Y-%m-%dT%H:%M:%S+07:00")
    assert ids(faked, f"?end_date={end.replace('+', '%2B')}") == [made["noise"]]


def test_filters_by_code_ward_status_and_ids(faked: TestClient, fake_desk: FakeDesk) -> None:
    made = seed(faked)
    assert ids(faked, "?service_code=MT-ONGAN") == [made["noise"]]
    assert ids(faked, "?service_code=MT-ONGAN,MT-RAC&start_date=2025-01-01T00:00:00Z") == [
        made["dumping"],
        made["noise"],
        made["old"],
    ]
    assert ids(faked, f"?ward={SAI_GON[0]}") == [made["dumping"], made["noise"]]
    incident = faked.app.state.ioc.open311.repository.get(made["noise"]).incident_id  # type: ignore[attr-defined]
    fake_desk.status[incident].update(status="resolved", statusNotes="Đã xử lý cơ sở karaoke")
    assert ids(faked, "?status=closed") == [made["noise"]]
    assert ids(faked, "?status=open") == [made["dumping"]]
    assert ids(faked, "?status=open,closed") == [made["dumping"], made["noise"]]
    # service_request_id makes every other filter ignored, old reports included
    assert sorted(ids(faked, f"?service_request_id={made['old']},{made['noise']}&status=open")) == sorted(
        [made["old"], made["noise"]]
    )
    view = faked.get(f"/open311/v2/requests/{made['noise']}.json").json()[0]
    assert view["status"] == "closed" and view["status_notes"] == "Đã xử lý cơ sở karaoke"
    assert view["expected_datetime"] == "2026-03-01T10:00:00Z"


def test_xml_list_of_requests(faked: TestClient) -> None:
    made = seed(faked)
    root = xml(faked.get("/open311/v2/requests.xml"))
    assert root.tag == "service_requests"
    assert [r.findtext("service_request_id") for r in root.findall("request")] == [made["dumping"], made["noise"]]
    assert xml(faked.get("/open311/v2/requests.xml?service_code=NONE")).findall("request") == []


def test_bad_filters_are_400(faked: TestClient) -> None:
    for query in (
        "?status=pending",
        "?start_date=yesterday",
        "?start_date=2026-03-01T00:00:00",
        "?start_date=2026-03-02T00:00:00Z&end_date=2026-03-01T00:00:00Z",
        "?service_code=" + ",".join(["A"] * 51),
        "?ward=%3Cscript%3E",
    ):
        assert_georeport_error(faked.get(f"/open311/v2/requests.json{query}"), 400)
    assert_georeport_error(faked.get("/open311/v2/requests.xml?status=pending"), 400, "xml")
    assert_georeport_error(faked.get("/open311/v2/requests/999.json"), 404)
    assert_georeport_error(faked.get("/open311/v2/requests/999.xml"), 404, "xml")
