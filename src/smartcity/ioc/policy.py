"""The operations centre's rows of the platform's policy table, one dictionary per part."""

from __future__ import annotations

from smartcity.ioc.alerts.policy import POLICY as ALERTS
from smartcity.ioc.dashboard.policy import POLICY as DASHBOARD
from smartcity.ioc.incidents.policy import POLICY as INCIDENTS
from smartcity.ioc.open311.policy import POLICY as OPEN311
from smartcity.ioc.rules.policy import POLICY as RULES
from smartcity.security.policy import Rule

POLICY: dict[str, Rule] = {**RULES, **ALERTS, **INCIDENTS, **OPEN311, **DASHBOARD}
