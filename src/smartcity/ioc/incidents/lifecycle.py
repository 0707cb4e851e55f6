"""The incident's life: which status may follow which, and its SLA deadline (pure functions, no storage).

::

    new ──► assigned ──► in_progress ──► resolved ──► closed
               ▲              ▲              │          │
               └── reopened ◄─┴──────────────┴──────────┘

``reopened`` comes from ``resolved`` or ``closed`` and goes on to ``assigned`` or ``in_progress``. Assigning a
``new`` incident (a department or an assignee) moves it to ``assigned``.

SLA: the deadline is ``openedAt + slaHours[type][severity]``, fixed at opening and recomputed from the same
``openedAt`` when the severity or the type changes. The warning falls at :data:`WARN_SHARE` of that span.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from smartcity.ioc.contracts import IncidentStatus, Severity
from smartcity.ioc.incidents.catalogue import IncidentType
from smartcity.ioc.incidents.errors import InvalidTransition

S = IncidentStatus

#: status -> the statuses a transition may lead to
TRANSITIONS: Mapping[IncidentStatus, frozenset[IncidentStatus]] = {
    S.NEW: frozenset({S.ASSIGNED}),
    S.ASSIGNED: frozenset({S.IN_PROGRESS}),
    S.IN_PROGRESS: frozenset({S.RESOLVED}),
    S.RESOLVED: frozenset({S.CLOSED, S.REOPENED}),
    S.CLOSED: frozenset({S.REOPENED}),
    S.REOPENED: frozenset({S.ASSIGNED, S.IN_PROGRESS}),
}

#: statuses of an incident still being worked on (counted as open, watched by the SLA)
OPEN = frozenset({S.NEW, S.ASSIGNED, S.IN_PROGRESS, S.REOPENED})
DONE = frozenset({S.RESOLVED, S.CLOSED})

#: share of the SLA span after which the ``incident.sla_warning`` falls
WARN_SHARE = 0.8


def check_transition(current: IncidentStatus, target: IncidentStatus) -> None:
    """Refuse (409) a transition the state machine does not allow, saying which ones it does."""
    allowed = TRANSITIONS[current]
    if target not in allowed:
        choices = ", ".join(sorted(s.value for s in allowed))
        raise InvalidTransition(
            f"an incident cannot go from {current.value} to {target.value}; from {current.value} "
            f"it may go to: {choices}"
        )


def deadline(kind: IncidentType, severity: Severity, opened_at: datetime) -> datetime:
    return opened_at + timedelta(hours=kind.sla_hours[severity])


def warning_time(opened_at: datetime, due_at: datetime) -> datetime:
    return opened_at + (due_at - opened_at) * WARN_SHARE


def is_breached(status: IncidentStatus, due_at: datetime, resolved_at: datetime | None, now: datetime) -> bool:
    """Past the deadline: not resolved by it (an open incident past it, or one resolved after it)."""
    if resolved_at is not None and status in DONE:
        return resolved_at > due_at
    return now > due_at
