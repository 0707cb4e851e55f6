"""Who may call the CKAN Action API's routes (merged into smartcity.security.policy.POLICY).

One route per registered action and API path (``ckan_<action>`` at ``/api/3/action/<action>``,
``ckan_<action>_unversioned`` at ``/api/action/<action>``), plus the fallback for unknown names. Reads are public
(not audited, no CSRF token: they change nothing, also when sent by POST as ckanapi does); writes need a
publisher credential (administrator or data_publisher) and are audited as ``opendata.<noun>.<verb>``
(``package_create`` -> ``opendata.package.create``).
"""

from __future__ import annotations

from smartcity.opendata.ckan import load_actions
from smartcity.opendata.ckan.registry import ACTIONS
from smartcity.security.policy import CURATORS, Rule

UNKNOWN = "ckan_action_unknown"


def route_names(action: str) -> tuple[str, str]:
    """The names of an action's routes under /api/3/action/ and /api/action/."""
    return f"ckan_{action}", f"ckan_{action}_unversioned"


def audit_action(name: str) -> str:
    """The audited action: ``package_create`` -> ``opendata.package.create``,
    ``datastore_search_sql`` -> ``opendata.datastore.search_sql``."""
    noun, _, verb = name.partition("_")
    return f"opendata.{noun}.{verb or 'call'}"


def _rules() -> dict[str, Rule]:
    load_actions()
    rules: dict[str, Rule] = {}
    for name, found in sorted(ACTIONS.items()):
        if found.write:
            rule = Rule(audit_action(name), CURATORS, audit=True)
        else:
            rule = Rule(audit_action(name), public=True, audit=False, session_csrf=False)
        for route in route_names(name):
            rules[route] = rule
    unknown = Rule("opendata.action.unknown", public=True, audit=False, session_csrf=False)
    rules[UNKNOWN] = unknown
    rules[f"{UNKNOWN}_unversioned"] = unknown
    return rules


POLICY: dict[str, Rule] = _rules()
