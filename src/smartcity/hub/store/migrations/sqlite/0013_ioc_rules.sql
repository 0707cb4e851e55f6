-- The operations centre's rules (smartcity.ioc.rules): the current version of each rule, every version ever
-- stored (old versions stay readable, also of deleted rules), and the subjects each rule was firing about (so a
-- restart notices when their condition ends). doc is the rule document (JSON); times are ISO 8601 UTC text.
CREATE TABLE ioc_rules (
    tenant_id  INTEGER NOT NULL,
    rule_id    TEXT NOT NULL,
    version    INTEGER NOT NULL,
    enabled    INTEGER NOT NULL,
    doc        TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    PRIMARY KEY (tenant_id, rule_id)
);

CREATE TABLE ioc_rule_versions (
    tenant_id  INTEGER NOT NULL,
    rule_id    TEXT NOT NULL,
    version    INTEGER NOT NULL,
    change     TEXT NOT NULL,
    doc        TEXT NOT NULL,
    changed_at TEXT NOT NULL,
    changed_by TEXT NOT NULL,
    PRIMARY KEY (tenant_id, rule_id, version)
);

CREATE TABLE ioc_rule_firing (
    tenant_id    INTEGER NOT NULL,
    rule_id      TEXT NOT NULL,
    subject      TEXT NOT NULL,
    subject_type TEXT,
    fired_at     TEXT NOT NULL,
    PRIMARY KEY (tenant_id, rule_id, subject)
);
