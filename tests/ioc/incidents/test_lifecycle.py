"""The state machine, the SLA arithmetic and the pure change functions, with a controlled clock."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from smartcity.hub.errors import BadRequestData, ResourceNotFound
from smartcity.ioc.contracts import IncidentStatus, Severity
from smartcity.ioc.incidents import changes, lifecycle
from smartcity.ioc.incidents.catalogue import packaged
from smartcity.ioc.incidents.errors import InvalidTransition, NotYourDepartment
from smartcity.ioc.incidents.model import Incident, Viewer
from tests.ioc.incidents.support import START

S = IncidentStatus
OPERATOR = Viewer("op")
CATALOGUE = packaged()


def incident(**fields: object) -> Incident:
    kind = CATALOGUE.types["flooding"]
    due = lifecycle.deadline(kind, Severity.MAJOR, START)
    base = Incident(
        id="i1", number="INC-2026-000001", type="flooding", title="t", description="", severity=Severity.MAJOR,
        status=S.NEW, department="flood_control", assignee=None, ward=None, location=None, domain="flood",
        source="manual", source_ref=None, labels={}, opened_at=START, opened_by="op", updated_at=START,
        acknowledged_at=None, due_at=due, warn_at=lifecycle.warning_time(START, due), sla_warned=False,
        sla_breached=False, resolved_at=None, closed_at=None, resolution=None,
        checklist=changes.checklist_for(kind), version=1,
    )  # fmt: skip
    return replace(base, **fields)  # type: ignore[arg-type]


ALLOWED = {
    (S.NEW, S.ASSIGNED), (S.ASSIGNED, S.IN_PROGRESS), (S.IN_PROGRESS, S.RESOLVED), (S.RESOLVED, S.CLOSED),
    (S.RESOLVED, S.REOPENED), (S.CLOSED, S.REOPENED), (S.REOPENED, S.ASSIGNED), (S.REOPENED, S.IN_PROGRESS),
}  # fmt: skip


@pytest.mark.parametrize("current", list(S))
@pytest.mark.parametrize("target", list(S))
def test_only_the_documented_transitions_are_allowed(current: S, target: S) -> None:
    if (current, target) in ALLOWED:
        lifecycle.check_transition(current, target)
    else:
        with pytest.raises(InvalidTransition) as caught:
            lifecycle.check_transition(current, target)
        assert caught.value.status == 409
        assert f"from {current.value} to {target.value}" in caught.value.detail


def test_the_deadline_comes_from_type_and_severity_and_the_warning_at_80_percent() -> None:
    kind = CATALOGUE.types["flooding"]
    assert lifecycle.deadline(kind, Severity.CRITICAL, START) == START + timedelta(
        hours=kind.sla_hours[Severity.CRITICAL]
    )
    due = START + timedelta(hours=10)
    assert lifecycle.warning_time(START, due) == START + timedelta(hours=8)


def test_breached_means_not_resolved_by_the_deadline() -> None:
    due = START + timedelta(hours=2)
    assert not lifecycle.is_breached(S.IN_PROGRESS, due, None, due)
    assert lifecycle.is_breached(S.IN_PROGRESS, due, None, due + timedelta(seconds=1))
    assert not lifecycle.is_breached(S.RESOLVED, due, due - timedelta(minutes=1), due + timedelta(days=1))
    assert lifecycle.is_breached(S.CLOSED, due, due + timedelta(minutes=1), due + timedelta(days=1))


def test_resolving_needs_a_note_and_records_it() -> None:
    working = incident(status=S.IN_PROGRESS)
    with pytest.raises(BadRequestData, match="resolution note"):
        changes.apply_transition(working, S.RESOLVED, "  ", None, OPERATOR, START)
    later = START + timedelta(hours=1)
    done, entries = changes.apply_transition(working, S.RESOLVED, "pumped out", None, OPERATOR, later)
    assert (done.status, done.resolved_at, done.resolution) == (S.RESOLVED, later, "pumped out")
    assert entries[0].kind == "status" and entries[0].public  # the resolution note is the public answer
    assert entries[0].detail == {"from": "in_progress", "to": "resolved", "note": "pumped out"}


def test_reopening_clears_the_resolution_and_keeps_the_deadline() -> None:
    closed = incident(status=S.CLOSED, resolved_at=START, closed_at=START, resolution="done")
    reopened, entries = changes.apply_transition(closed, S.REOPENED, "water is back", None, OPERATOR, START)
    assert (reopened.resolved_at, reopened.closed_at, reopened.resolution) == (None, None, None)
    assert reopened.due_at == closed.due_at
    assert not entries[0].public  # other notes are internal unless asked


def test_assigning_a_new_incident_makes_it_assigned_and_acknowledged() -> None:
    later = START + timedelta(minutes=7)
    out, entries = changes.apply_patch(incident(), changes.Patch(assignee="team-3"), CATALOGUE, OPERATOR, later)
    assert out.status is S.ASSIGNED and out.assignee == "team-3" and out.acknowledged_at == later
    assert [e.kind for e in entries] == ["assigned", "status"]
    assert entries[0].detail == {"field": "assignee", "before": None, "after": "team-3"}


def test_a_severity_change_recomputes_the_deadline_from_the_opening_time() -> None:
    kind = CATALOGUE.types["flooding"]
    later = START + timedelta(hours=1)
    out, entries = changes.apply_patch(
        incident(), changes.Patch(severity=Severity.CRITICAL), CATALOGUE, OPERATOR, later
    )
    assert out.due_at == START + timedelta(hours=kind.sla_hours[Severity.CRITICAL])
    assert out.warn_at == lifecycle.warning_time(START, out.due_at)
    assert {e.detail["field"] for e in entries} == {"severity", "dueAt"}


def test_a_later_deadline_lets_the_warning_be_announced_again() -> None:
    warned = incident(severity=Severity.CRITICAL, sla_warned=True, sla_breached=True)
    now = START + timedelta(hours=3)  # past the critical deadline (2 h), before the minor one's warning
    out, _ = changes.apply_patch(warned, changes.Patch(severity=Severity.MINOR), CATALOGUE, OPERATOR, now)
    assert (out.sla_warned, out.sla_breached) == (False, False)


def test_a_type_change_keeps_done_items_with_the_same_id() -> None:
    item = changes.checklist_for(CATALOGUE.types["flooding"])[0]
    start = incident(checklist=(replace(item, done=True, done_by="op", done_at=START),))
    out, _ = changes.apply_patch(start, changes.Patch(type="blocked_drain"), CATALOGUE, OPERATOR, START)
    ids = [i.id for i in out.checklist]
    assert ids == [i.id for i in CATALOGUE.types["blocked_drain"].checklist]
    assert not any(i.done for i in out.checklist)  # "verify" is not an item of blocked_drain
    out, _ = changes.apply_patch(start, changes.Patch(type="air_pollution"), CATALOGUE, OPERATOR, START)
    assert [i.done for i in out.checklist if i.id == "verify"] == [True]


def test_patching_checks_its_values() -> None:
    with pytest.raises(BadRequestData, match="unknown department"):
        changes.apply_patch(incident(), changes.Patch(department="nowhere"), CATALOGUE, OPERATOR, START)
    with pytest.raises(BadRequestData, match="unknown ward"):
        changes.apply_patch(incident(), changes.Patch(ward="99999"), CATALOGUE, OPERATOR, START)
    with pytest.raises(BadRequestData, match="unknown incident type"):
        changes.apply_patch(incident(), changes.Patch(type="alien_landing"), CATALOGUE, OPERATOR, START)
    with pytest.raises(InvalidTransition, match="closed"):
        changes.apply_patch(incident(status=S.CLOSED), changes.Patch(title="x"), CATALOGUE, OPERATOR, START)


def test_checklist_items_are_ticked_once_and_recorded() -> None:
    out, entries = changes.toggle_item(incident(), "pumps", True, OPERATOR, START)
    item = next(i for i in out.checklist if i.id == "pumps")
    assert (item.done, item.done_by, item.done_at) == (True, "op", START)
    assert entries[0].detail["before"] is False and entries[0].detail["after"] is True
    assert changes.toggle_item(out, "pumps", True, OPERATOR, START)[1] == []
    with pytest.raises(ResourceNotFound):
        changes.toggle_item(incident(), "nope", True, OPERATOR, START)


def test_sla_marks_fall_once_each() -> None:
    fresh = incident()
    span = fresh.due_at - START
    assert changes.sla_marks(fresh, START + span * 0.79)[1] == []
    warned, entries = changes.sla_marks(fresh, START + span * 0.8)
    assert [e.kind for e in entries] == ["sla_warning"] and warned.sla_warned
    assert changes.sla_marks(warned, START + span * 0.9)[1] == []
    breached, entries = changes.sla_marks(warned, fresh.due_at)
    assert [e.kind for e in entries] == ["sla_breached"]
    assert changes.sla_marks(breached, fresh.due_at + span)[1] == []
    both = changes.sla_marks(fresh, fresh.due_at + span)[1]  # a late check announces both
    assert [e.kind for e in both] == ["sla_warning", "sla_breached"]
    assert changes.sla_marks(incident(status=S.RESOLVED), fresh.due_at + span)[1] == []


def test_a_department_officer_opens_for_their_own_department_only() -> None:
    officer = Viewer("o", "transport", restricted=True)
    assert changes.own_department(officer, None) == "transport"
    assert changes.own_department(officer, "transport") == "transport"
    with pytest.raises(NotYourDepartment):
        changes.own_department(officer, "police")
    assert changes.own_department(OPERATOR, "police") == "police"
