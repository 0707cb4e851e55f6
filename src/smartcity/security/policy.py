"""The policy table: the one place that says who may call each route of the platform.

Every route is known by its name (FastAPI's route name, unique in the app) and maps to a :class:`Rule`: the
action it performs (a dotted name the audit trail records) and the roles allowed to do it. A route missing
from the table is refused (fail closed), and ``tests/security/test_policy_matrix.py`` fails for it.

``hub`` rules are the shared data hub's own reads and writes: with ``SMARTCITY_AUTH=open`` (the embedded demo)
anyone may call them without a credential; in production they need a credential with one of the roles.
"""

from __future__ import annotations

from dataclasses import dataclass

from smartcity.security.principal import Principal
from smartcity.security.roles import Role

R = Role
_ALL_SIGNED_IN = frozenset(r for r in Role if r is not Role.PUBLIC)

#: who reads the hub's data: operators, officers, analysts, publishers (their own tenants), the SOC
HUB_READERS = frozenset(
    {R.ADMINISTRATOR, R.IOC_OPERATOR, R.DEPARTMENT_OFFICER, R.ANALYST, R.SOC_ANALYST, R.DATA_PUBLISHER}
)
#: who writes entities: operators, publishers and devices
HUB_WRITERS = frozenset({R.ADMINISTRATOR, R.IOC_OPERATOR, R.DATA_PUBLISHER, R.DEVICE})
#: who manages subscriptions: the services that react to the city
SUBSCRIBERS = frozenset({R.ADMINISTRATOR, R.IOC_OPERATOR, R.DEPARTMENT_OFFICER, R.ANALYST, R.DATA_PUBLISHER})
#: who rewrites or erases history and hosted @contexts: few
CURATORS = frozenset({R.ADMINISTRATOR, R.DATA_PUBLISHER})
ADMINS = frozenset({R.ADMINISTRATOR})
SOC = frozenset({R.ADMINISTRATOR, R.SOC_ANALYST})
#: who provisions the IoT agent's config groups and devices and reads its dead letters
IOT_PROVISIONERS = frozenset({R.ADMINISTRATOR, R.IOC_OPERATOR, R.DATA_PUBLISHER})


@dataclass(frozen=True)
class Rule:
    """What a route does and who may do it.

    ``public``: anyone, signed in or not. ``hub``: a hub data route, open to anyone when the deployment runs the
    hub open. ``audit``: record the call in the audit trail (default: only for methods that change something).
    ``session_csrf``: whether a browser-session caller must echo its CSRF token (unsafe methods only).
    """

    action: str
    roles: frozenset[Role] = frozenset()
    public: bool = False
    hub: bool = False
    audit: bool | None = None
    session_csrf: bool = True

    def allows(self, principal: Principal, *, open_hub: bool) -> bool:
        if self.public or (self.hub and open_hub and principal.is_anonymous):
            return True
        return principal.role in self.roles


def _public(action: str, *, csrf: bool = True) -> Rule:
    return Rule(action, public=True, session_csrf=csrf)


def _hub(action: str, roles: frozenset[Role]) -> Rule:
    return Rule(action, roles, hub=True)


def _device_message(action: str) -> Rule:
    """A device message: authenticated by its config group's API key in the route (FIWARE), not audited."""
    return Rule(action, public=True, audit=False, session_csrf=False)


#: route name -> rule; every route of the app must be here
POLICY: dict[str, Rule] = {
    # platform
    "health": _public("platform.health"),
    "openapi": _public("platform.openapi"),
    "swagger_ui_html": _public("platform.docs"),
    "swagger_ui_redirect": _public("platform.docs"),
    "redoc_html": _public("platform.docs"),
    # NGSI-LD entities
    "create_entity": _hub("hub.entity.create", HUB_WRITERS),
    "query_entities": _hub("hub.entity.query", HUB_READERS),
    "purge_entities": _hub("hub.entity.purge", ADMINS),
    "retrieve_entity": _hub("hub.entity.read", HUB_READERS),
    "delete_entity": _hub("hub.entity.delete", HUB_WRITERS),
    "merge_entity": _hub("hub.entity.merge", HUB_WRITERS),
    "replace_entity": _hub("hub.entity.replace", HUB_WRITERS),
    "append_attrs": _hub("hub.attrs.append", HUB_WRITERS),
    "update_attrs": _hub("hub.attrs.update", HUB_WRITERS),
    "patch_attr": _hub("hub.attr.patch", HUB_WRITERS),
    "replace_attr": _hub("hub.attr.replace", HUB_WRITERS),
    "delete_attr": _hub("hub.attr.delete", HUB_WRITERS),
    "batch_create": _hub("hub.batch.create", HUB_WRITERS),
    "batch_upsert": _hub("hub.batch.upsert", HUB_WRITERS),
    "batch_update": _hub("hub.batch.update", HUB_WRITERS),
    "batch_merge": _hub("hub.batch.merge", HUB_WRITERS),
    "batch_delete": _hub("hub.batch.delete", HUB_WRITERS),
    "batch_query": _hub("hub.entity.query", HUB_READERS),
    "list_types": _hub("hub.types.read", HUB_READERS),
    "type_details": _hub("hub.types.read", HUB_READERS),
    "list_attributes": _hub("hub.attributes.read", HUB_READERS),
    "attribute_details": _hub("hub.attributes.read", HUB_READERS),
    "add_context": _hub("hub.context.add", CURATORS),
    "list_contexts": _hub("hub.context.read", HUB_READERS | HUB_WRITERS),
    "get_context": _hub("hub.context.read", HUB_READERS | HUB_WRITERS),
    "delete_context": _hub("hub.context.delete", CURATORS),
    # NGSI-LD temporal
    "query_temporal": _hub("hub.temporal.query", HUB_READERS),
    "retrieve_temporal": _hub("hub.temporal.read", HUB_READERS),
    "create_temporal": _hub("hub.temporal.write", HUB_WRITERS),
    "delete_temporal": _hub("hub.temporal.delete", CURATORS),
    "add_temporal_attrs": _hub("hub.temporal.write", HUB_WRITERS),
    "delete_temporal_attr": _hub("hub.temporal.delete", CURATORS),
    "patch_temporal_instance": _hub("hub.temporal.patch", CURATORS),
    # NGSI-LD subscriptions
    "create_subscription": _hub("hub.subscription.create", SUBSCRIBERS),
    "query_subscriptions": _hub("hub.subscription.read", SUBSCRIBERS),
    "retrieve_subscription": _hub("hub.subscription.read", SUBSCRIBERS),
    "update_subscription": _hub("hub.subscription.update", SUBSCRIBERS),
    "delete_subscription": _hub("hub.subscription.delete", SUBSCRIBERS),
    # authentication (each checks its own credentials)
    "login": _public("security.session.login", csrf=False),
    "logout": _public("security.session.logout"),
    "who_am_i": _public("security.session.read"),
    "issue_token": _public("security.token.issue", csrf=False),
    # administration of credentials
    "list_users": Rule("security.user.read", ADMINS),
    "add_user": Rule("security.user.add", ADMINS),
    "get_user": Rule("security.user.read", ADMINS),
    "change_user": Rule("security.user.change", ADMINS),
    "list_api_keys": Rule("security.apikey.read", ADMINS),
    "create_api_key": Rule("security.apikey.create", ADMINS),
    "revoke_api_key": Rule("security.apikey.revoke", ADMINS),
    "list_clients": Rule("security.client.read", ADMINS),
    "create_client": Rule("security.client.create", ADMINS),
    "revoke_client": Rule("security.client.revoke", ADMINS),
    # the security operations centre's reading
    "list_audit_records": Rule("security.audit.read", SOC),
    "list_security_events": Rule("security.events.read", SOC),
    # the IoT agent: provisioning (FIWARE IoT Agent API), dead letters, device messages
    "iot_create_services": Rule("iot.group.create", IOT_PROVISIONERS),
    "iot_list_services": Rule("iot.group.read", IOT_PROVISIONERS),
    "iot_update_service": Rule("iot.group.update", IOT_PROVISIONERS),
    "iot_delete_service": Rule("iot.group.delete", IOT_PROVISIONERS),
    "iot_create_groups": Rule("iot.group.create", IOT_PROVISIONERS),
    "iot_list_groups": Rule("iot.group.read", IOT_PROVISIONERS),
    "iot_update_group": Rule("iot.group.update", IOT_PROVISIONERS),
    "iot_delete_group": Rule("iot.group.delete", IOT_PROVISIONERS),
    "iot_create_devices": Rule("iot.device.create", IOT_PROVISIONERS),
    "iot_list_devices": Rule("iot.device.read", IOT_PROVISIONERS),
    "iot_get_device": Rule("iot.device.read", IOT_PROVISIONERS),
    "iot_update_device": Rule("iot.device.update", IOT_PROVISIONERS),
    "iot_delete_device": Rule("iot.device.delete", IOT_PROVISIONERS),
    "iot_delete_devices_op": Rule("iot.device.delete", IOT_PROVISIONERS),
    "iot_about": Rule("iot.about.read", IOT_PROVISIONERS),
    "iot_list_deadletters": Rule("iot.deadletter.read", IOT_PROVISIONERS),
    "iot_measure_json": _device_message("iot.measure"),
    "iot_measure_json_attr": _device_message("iot.measure"),
    "iot_measure_ul": _device_message("iot.measure"),
    "iot_measure_ul_get": _device_message("iot.measure"),
}

#: roles every signed-in credential has, for tests and documentation
SIGNED_IN = _ALL_SIGNED_IN


def rule_for(route_name: str) -> Rule | None:
    return POLICY.get(route_name)


def _add_pillars() -> None:
    """Merge the pillars' own rows (imported here, at the end: they build on :class:`Rule`)."""
    from smartcity.ioc.policy import POLICY as IOC
    from smartcity.opendata.policy import POLICY as OPENDATA

    for pillar in (IOC, OPENDATA):
        clash = POLICY.keys() & pillar.keys()
        if clash:
            raise RuntimeError(f"route names defined twice in the policy: {sorted(clash)}")
        POLICY.update(pillar)


_add_pillars()
