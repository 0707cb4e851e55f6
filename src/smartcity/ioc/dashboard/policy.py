"""Who may call this part's routes (merged into smartcity.security.policy.POLICY).

The page and its files are public (the page shows the sign-in form); the data behind it is for the operations
centre's people: administrators, operators, department officers, analysts and the security analysts.
"""

from __future__ import annotations

from smartcity.security.policy import Rule
from smartcity.security.roles import Role

IOC_VIEWERS = frozenset(
    {Role.ADMINISTRATOR, Role.IOC_OPERATOR, Role.DEPARTMENT_OFFICER, Role.ANALYST, Role.SOC_ANALYST}
)

POLICY: dict[str, Rule] = {
    "ioc_dashboard": Rule("ioc.dashboard.page", public=True),
    "ioc_dashboard_asset": Rule("ioc.dashboard.asset", public=True),
    "ioc_map_wards": Rule("ioc.map.read", IOC_VIEWERS),
    "ioc_map_layers": Rule("ioc.map.read", IOC_VIEWERS),
    "ioc_kpis": Rule("ioc.kpi.read", IOC_VIEWERS),
    "ioc_stream": Rule("ioc.stream.read", IOC_VIEWERS),
}
