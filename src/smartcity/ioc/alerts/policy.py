"""Who may call this part's routes (merged into smartcity.security.policy.POLICY).

Operators, department officers, analysts and the SOC read alerts and silences; operators and department
officers acknowledge, clear and silence; operators configure escalation policies and channels.
"""

from __future__ import annotations

from smartcity.security.policy import Rule
from smartcity.security.roles import Role

R = Role
READERS = frozenset({R.ADMINISTRATOR, R.IOC_OPERATOR, R.DEPARTMENT_OFFICER, R.ANALYST, R.SOC_ANALYST})
RESPONDERS = frozenset({R.ADMINISTRATOR, R.IOC_OPERATOR, R.DEPARTMENT_OFFICER})
CONFIGURERS = frozenset({R.ADMINISTRATOR, R.IOC_OPERATOR})

POLICY: dict[str, Rule] = {
    "ioc_list_alerts": Rule("ioc.alert.read", READERS),
    "ioc_get_alert": Rule("ioc.alert.read", READERS),
    "ioc_acknowledge_alert": Rule("ioc.alert.acknowledge", RESPONDERS),
    "ioc_clear_alert": Rule("ioc.alert.clear", RESPONDERS),
    "ioc_list_silences": Rule("ioc.silence.read", READERS),
    "ioc_create_silence": Rule("ioc.silence.create", RESPONDERS),
    "ioc_delete_silence": Rule("ioc.silence.end", RESPONDERS),
    "ioc_list_escalation_policies": Rule("ioc.escalation.read", CONFIGURERS),
    "ioc_create_escalation_policy": Rule("ioc.escalation.create", CONFIGURERS),
    "ioc_get_escalation_policy": Rule("ioc.escalation.read", CONFIGURERS),
    "ioc_replace_escalation_policy": Rule("ioc.escalation.replace", CONFIGURERS),
    "ioc_delete_escalation_policy": Rule("ioc.escalation.delete", CONFIGURERS),
    "ioc_list_channels": Rule("ioc.channel.read", CONFIGURERS),
    "ioc_create_channel": Rule("ioc.channel.create", CONFIGURERS),
    "ioc_get_channel": Rule("ioc.channel.read", CONFIGURERS),
    "ioc_replace_channel": Rule("ioc.channel.replace", CONFIGURERS),
    "ioc_delete_channel": Rule("ioc.channel.delete", CONFIGURERS),
    "ioc_list_channel_deliveries": Rule("ioc.channel.read", CONFIGURERS),
    "ioc_test_channel": Rule("ioc.channel.test", CONFIGURERS),
}
