"""The incident desk on both backends, with a controlled clock: opening, numbers, the life, the timeline, the SLA
watch, department scoping in the storage, the public status and the figures."""

from __future__ import annotations

import asyncio

import pytest

from smartcity.hub.errors import AlreadyExists, ResourceNotFound
from smartcity.hub.store import Store
from smartcity.ioc.contracts import IncidentStatus, Severity
from smartcity.ioc.incidents.changes import Patch
from smartcity.ioc.incidents.errors import InvalidTransition
from smartcity.ioc.incidents.model import SYSTEM, Filter, Viewer
from smartcity.ioc.incidents.sla import SlaWatch
from tests.ioc.incidents.support import START, Clock, Recorder, desk_on, request

S = IncidentStatus
OP = Viewer("operator-1")
TRANSPORT = Viewer("officer-t", "transport", restricted=True)
POLICE = Viewer("officer-p", "police", restricted=True)


def test_opening_routes_numbers_and_schedules(store: Store) -> None:
    clock, events = Clock(), Recorder()
    desk = desk_on(store, clock, events)
    first = desk.open(request())
    assert first["number"] == "INC-2026-000001" and first["status"] == "new"
    assert first["department"] == "construction" and first["departmentName"]["en"] == "Dept. of Construction"
    assert first["dueAt"] == "2026-03-11T01:00:00.000000Z"  # road damage, major: 24 h
    assert first["openedAt"] == "2026-03-10T01:00:00.000000Z" and first["breached"] is False
    assert [i["id"] for i in first["checklist"]] == ["inspect", "barrier", "patch", "repair", "photos"]
    second = desk.open(request(type="noise", ward="26743", severity=Severity.MINOR))
    assert second["number"] == "INC-2026-000002"
    assert second["department"] == "ward:26743" and second["departmentName"]["vi"] == "UBND Phường Bến Thành"
    assert events.kinds() == ["incident.opened", "incident.opened"]
    assert events.of("incident.opened")[0].data == first and "timeline" not in first
    got = desk.read(first["id"], OP)
    assert got is not None and got["timeline"][0]["kind"] == "opened" and got["timeline"][0]["by"] == "operator-1"


def test_numbers_restart_each_year_in_ho_chi_minh_city_time(store: Store) -> None:
    clock = Clock(START.replace(month=12, day=31, hour=16, minute=59))  # 23:59 local on 31 December
    desk = desk_on(store, clock)
    assert desk.open(request())["number"] == "INC-2026-000001"
    clock.advance(minutes=2)  # 00:01 local on 1 January
    assert desk.open(request())["number"] == "INC-2027-000001"


def test_an_alert_or_report_opens_one_incident_at_a_time(store: Store) -> None:
    desk = desk_on(store, Clock())
    data, created = desk.open_as(request(source="open311", source_ref="sr-1", opened_by="open311"), SYSTEM)
    again, created_again = desk.open_as(request(source="open311", source_ref="sr-1", opened_by="open311"), SYSTEM)
    assert created and not created_again and again["id"] == data["id"]
    other, _ = desk.open_as(request(source="open311", source_ref="sr-2", opened_by="open311"), SYSTEM)
    assert other["id"] != data["id"]
    # a closed incident frees its source: the next opening is a new incident
    desk.change(data["id"], Patch(assignee="crew"), OP)
    desk.transition(data["id"], S.IN_PROGRESS, None, None, OP)
    desk.transition(data["id"], S.RESOLVED, "patched", None, OP)
    desk.transition(data["id"], S.CLOSED, None, None, OP)
    fresh, created = desk.open_as(request(source="open311", source_ref="sr-1", opened_by="open311"), SYSTEM)
    assert created and fresh["id"] != data["id"]


def test_the_whole_life_is_in_the_timeline(store: Store) -> None:
    clock, events = Clock(), Recorder()
    desk = desk_on(store, clock, events)
    iid = desk.open(request())["id"]
    clock.advance(minutes=10)
    assigned = desk.change(iid, Patch(assignee="crew-5", department="transport"), OP)
    assert assigned["status"] == "assigned" and assigned["acknowledgedAt"] == "2026-03-10T01:10:00.000000Z"
    with pytest.raises(InvalidTransition, match="from assigned to resolved"):
        desk.transition(iid, S.RESOLVED, "done", None, OP)
    desk.transition(iid, S.IN_PROGRESS, "on our way", None, OP)
    desk.check(iid, "barrier", True, OP)
    desk.comment(iid, "Đã rào chắn", True, OP)
    desk.comment(iid, "contractor slow", False, OP)
    clock.advance(hours=2)
    resolved = desk.transition(iid, S.RESOLVED, "Đã vá ổ gà", None, OP)
    assert resolved["resolvedAt"] == "2026-03-10T03:10:00.000000Z" and resolved["resolution"] == "Đã vá ổ gà"
    desk.transition(iid, S.CLOSED, None, None, OP)
    desk.transition(iid, S.REOPENED, "reported again", None, OP)
    reopened = desk.transition(iid, S.IN_PROGRESS, None, None, OP)
    assert reopened["resolvedAt"] is None and reopened["closedAt"] is None
    timeline = desk.require(iid, OP)["timeline"]
    what = [(e["kind"], e["detail"].get("to") or e["detail"].get("field") or e["detail"].get("item")) for e in timeline]
    assert what == [
        ("opened", None), ("assigned", "department"), ("assigned", "assignee"), ("status", "assigned"),
        ("status", "in_progress"), ("checklist", "barrier"), ("comment", None), ("comment", None),
        ("status", "resolved"), ("status", "closed"), ("status", "reopened"), ("status", "in_progress"),
    ]  # fmt: skip
    assert timeline[1]["detail"] == {"field": "department", "before": "construction", "after": "transport"}
    assert all(e["by"] == "operator-1" for e in timeline)
    assert [e["public"] for e in timeline if e["kind"] == "comment"] == [True, False]
    assert events.kinds().count("incident.changed") == 9  # one per call that changed something


def test_public_status_shows_the_latest_public_note(store: Store) -> None:
    desk = desk_on(store, Clock())
    iid = desk.open(request(source="open311", source_ref="sr-9", opened_by="open311"))["id"]
    status = desk.public_status(iid)
    assert status is not None and status["status"] == "new" and status["statusNotes"] is None
    assert status["expectedAt"] == "2026-03-11T01:00:00.000000Z" and status["department"] == "construction"
    desk.comment(iid, "Đã tiếp nhận", True, OP)
    desk.comment(iid, "internal only", False, OP)
    status = desk.public_status(iid)
    assert status is not None and status["statusNotes"] == "Đã tiếp nhận"
    assert desk.public_status("nope") is None


def test_a_department_officer_reaches_only_their_department(store: Store) -> None:
    desk = desk_on(store, Clock())
    mine = desk.open(request(type="traffic_light_fault"))["id"]  # transport
    theirs = desk.open(request(type="public_security"))["id"]  # police
    assert desk.read(mine, TRANSPORT) is not None and desk.read(theirs, TRANSPORT) is None
    found, total = desk.query(Filter(), TRANSPORT)
    assert total == 1 and [i["id"] for i in found] == [mine]
    assert desk.query(Filter(), OP)[1] == 2
    for change in (
        lambda: desk.change(theirs, Patch(assignee="me"), TRANSPORT),
        lambda: desk.transition(theirs, S.ASSIGNED, None, None, TRANSPORT),
        lambda: desk.comment(theirs, "hi", False, TRANSPORT),
        lambda: desk.check(theirs, "dispatch", True, TRANSPORT),
    ):
        with pytest.raises(ResourceNotFound):
            change()
    assert desk.require(theirs, OP)["timeline"][-1]["kind"] == "opened"  # nothing happened to it
    # an officer opens for their own department, and sees the source's incident only when it is theirs
    opened, _ = desk.open_as(request(type="flooding", source="alert", source_ref="a-1"), TRANSPORT)
    assert opened["department"] == "transport"
    desk.change(opened["id"], Patch(department="police"), TRANSPORT)  # handed over: gone from their view
    assert desk.read(opened["id"], TRANSPORT) is None
    with pytest.raises(AlreadyExists):
        desk.open_as(request(type="flooding", source="alert", source_ref="a-1"), TRANSPORT)
    assert desk.open_as(request(type="flooding", source="alert", source_ref="a-1"), POLICE)[0]["id"] == opened["id"]


def test_filters(store: Store) -> None:
    clock = Clock()
    desk = desk_on(store, clock)
    a = desk.open(request(type="flooding", severity=Severity.CRITICAL))["id"]  # due in 2 h
    b = desk.open(request(type="noise", ward="26743", severity=Severity.INFO))["id"]
    desk.change(b, Patch(assignee="ward-team"), OP)
    clock.advance(hours=3)
    ids = lambda **kw: {i["id"] for i in desk.query(Filter(**kw), OP)[0]}  # noqa: E731
    assert ids(overdue=True) == {a} and ids(overdue=False) == {b}
    assert ids(status=(S.ASSIGNED,)) == {b} and ids(status=(S.NEW, S.ASSIGNED)) == {a, b}
    assert ids(ward="26743") == {b} and ids(department="flood_control") == {a}
    assert ids(severity=Severity.CRITICAL) == {a} and ids(type="noise") == {b} and ids(assignee="ward-team") == {b}
    page, total = desk.query(Filter(limit=1, offset=1), OP)
    assert total == 2 and [i["id"] for i in page] == [a]  # newest first
    assert desk.get(a) is not None and desk.get(a)["breached"] is True  # type: ignore[index]


def test_the_sla_watch_announces_warning_and_breach_once_each(store: Store) -> None:
    clock, events = Clock(), Recorder()
    desk = desk_on(store, clock, events)
    iid = desk.open(request(type="flooding", severity=Severity.MAJOR))["id"]  # 4 h: warning at 3 h 12 min
    calm = desk.open(request(type="road_damage", severity=Severity.INFO))["id"]
    watch = SlaWatch(desk)
    clock.advance(hours=3, minutes=11)
    assert asyncio.run(watch.run_once()) == 0
    clock.advance(minutes=1)
    assert asyncio.run(watch.run_once()) == 1 and asyncio.run(watch.run_once()) == 0
    assert [e.data["id"] for e in events.of("incident.sla_warning")] == [iid]
    clock.advance(hours=1)
    assert desk.check_sla() == 1 and desk.check_sla() == 0
    breach = events.of("incident.sla_breached")
    assert len(breach) == 1 and breach[0].data["breached"] is True
    kinds = [e["kind"] for e in desk.require(iid, OP)["timeline"]]
    assert kinds == ["opened", "sla_warning", "sla_breached"]
    assert [e["kind"] for e in desk.require(calm, OP)["timeline"]] == ["opened"]
    assert len(events.of("incident.sla_warning")) == 1


def test_a_resolved_incident_is_not_watched(store: Store) -> None:
    clock, events = Clock(), Recorder()
    desk = desk_on(store, clock, events)
    iid = desk.open(request(type="flooding", severity=Severity.CRITICAL))["id"]
    desk.transition(iid, S.ASSIGNED, None, None, OP)
    desk.transition(iid, S.IN_PROGRESS, None, None, OP)
    desk.transition(iid, S.RESOLVED, "pumped", None, OP)
    clock.advance(days=2)
    assert desk.check_sla() == 0 and not events.of("incident.sla_breached")
    assert desk.get(iid)["breached"] is False  # type: ignore[index]


def test_summary(store: Store) -> None:
    clock = Clock()
    desk = desk_on(store, clock)
    empty = desk.summary()
    assert empty["open"] == 0 and empty["mttrSeconds"] is None and empty["reportsOnTimeShare"] is None
    quick = desk.open(request(source="open311", source_ref="r1", opened_by="open311"))["id"]  # due in 24 h
    late = desk.open(request(source="open311", source_ref="r2", opened_by="open311"))["id"]
    desk.open(request(source="open311", source_ref="r3", opened_by="open311", severity=Severity.INFO))  # 336 h
    desk.open(request(type="flooding", severity=Severity.CRITICAL))  # 2 h, stays open
    clock.advance(hours=1)
    desk.transition(quick, S.ASSIGNED, None, None, OP)
    clock.advance(hours=1)
    desk.transition(quick, S.IN_PROGRESS, None, None, OP)
    desk.transition(quick, S.RESOLVED, "done", None, OP)  # 2 h after opening, on time
    clock.advance(hours=28)
    for target in (S.ASSIGNED, S.IN_PROGRESS):
        desk.transition(late, target, None, None, OP)
    desk.transition(late, S.RESOLVED, "done late", None, OP)  # 30 h after opening, past its 24 h
    figures = desk.summary()
    assert figures["open"] == 2
    assert figures["openByDepartment"] == {"construction": 1, "flood_control": 1}
    assert figures["openByDomain"] == {"traffic": 1, "flood": 1}
    assert figures["mttrSeconds"] == pytest.approx((2 + 30) / 2 * 3600)
    assert figures["mttaSeconds"] == pytest.approx((1 + 30) / 2 * 3600)
    assert figures["slaBreached"] == 1  # the flooding
    assert figures["reportsTotal"] == 3
    assert figures["reportsOnTimeShare"] == pytest.approx(1 / 2)  # the third is not due yet
    clock.advance(days=40)
    assert desk.summary()["reportsTotal"] == 0  # the last 30 days only


def test_another_tenant_s_desk_sees_nothing(store: Store) -> None:
    desk = desk_on(store, Clock())
    iid = desk.open(request())["id"]
    other = desk_on(store, Clock())
    other.tenant = "district-twin"
    assert other.get(iid) is None and other.query(Filter(), OP)[1] == 0
    assert other.open(request())["number"] == "INC-2026-000001"  # numbers are per tenant
    with pytest.raises(ResourceNotFound):
        other.transition(iid, S.ASSIGNED, None, None, OP)
    assert desk.get(iid)["status"] == "new"  # type: ignore[index]


def test_the_sla_watch_runs_as_a_background_service(store: Store) -> None:
    clock, events = Clock(), Recorder()
    desk = desk_on(store, clock, events)
    iid = desk.open(request(type="flooding", severity=Severity.CRITICAL))["id"]
    clock.advance(hours=5)

    async def run() -> None:
        watch = SlaWatch(desk, interval=0.05)
        await watch.start()
        try:
            for _ in range(400):  # generous: up to 20 s on a busy machine
                if events.of("incident.sla_breached"):
                    break
                await asyncio.sleep(0.05)
        finally:
            await watch.stop()

    asyncio.run(run())
    assert [e.data["id"] for e in events.of("incident.sla_breached")] == [iid]
    assert [e.data["id"] for e in events.of("incident.sla_warning")] == [iid]
