"""Who may call the incident routes (merged into smartcity.security.policy.POLICY).

Reads: administrators, operators, department officers (their department's incidents only, enforced by the desk)
and analysts. Changes: administrators, operators and department officers (their own department)."""

from __future__ import annotations

from smartcity.security.policy import Rule
from smartcity.security.roles import Role

R = Role
READERS = frozenset({R.ADMINISTRATOR, R.IOC_OPERATOR, R.DEPARTMENT_OFFICER, R.ANALYST})
WRITERS = frozenset({R.ADMINISTRATOR, R.IOC_OPERATOR, R.DEPARTMENT_OFFICER})

POLICY: dict[str, Rule] = {
    "incidents_departments": Rule("ioc.department.read", READERS),
    "incidents_types": Rule("ioc.incident_type.read", READERS),
    "incidents_list": Rule("ioc.incident.read", READERS),
    "incidents_get": Rule("ioc.incident.read", READERS),
    "incidents_open": Rule("ioc.incident.open", WRITERS),
    "incidents_change": Rule("ioc.incident.change", WRITERS),
    "incidents_transition": Rule("ioc.incident.transition", WRITERS),
    "incidents_comment": Rule("ioc.incident.comment", WRITERS),
    "incidents_checklist": Rule("ioc.incident.checklist", WRITERS),
}
