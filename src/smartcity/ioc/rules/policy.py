"""Who may call the rules' routes (merged into smartcity.security.policy.POLICY).

Reads (rules, versions, validation, back-tests): administrators, operators, department officers and analysts.
Changes: administrators and operators."""

from __future__ import annotations

from smartcity.security.policy import Rule
from smartcity.security.roles import Role

R = Role
READERS = frozenset({R.ADMINISTRATOR, R.IOC_OPERATOR, R.DEPARTMENT_OFFICER, R.ANALYST})
WRITERS = frozenset({R.ADMINISTRATOR, R.IOC_OPERATOR})

POLICY: dict[str, Rule] = {
    "ioc_list_rules": Rule("ioc.rule.read", READERS),
    "ioc_create_rule": Rule("ioc.rule.create", WRITERS),
    "ioc_validate_rule": Rule("ioc.rule.validate", READERS, audit=False),
    "ioc_backtest_draft_rule": Rule("ioc.rule.backtest", READERS, audit=False),
    "ioc_get_rule": Rule("ioc.rule.read", READERS),
    "ioc_replace_rule": Rule("ioc.rule.replace", WRITERS),
    "ioc_delete_rule": Rule("ioc.rule.delete", WRITERS),
    "ioc_rule_versions": Rule("ioc.rule.read", READERS),
    "ioc_backtest_rule": Rule("ioc.rule.backtest", READERS, audit=False),
}
