-- The operations centre's alerts (smartcity.ioc.alerts): one row per alert (at most one active per rule and
-- subject: the partial unique index), the facts of each alert's timeline, silences, escalation policies,
-- notification channels and the durable outbox of their deliveries. Times are ISO 8601 UTC texts with
-- microseconds and Z (they sort as they compare); outbox times are integer microseconds since the epoch.
CREATE TABLE ioc_alerts (
    id               TEXT PRIMARY KEY,
    tenant_id        INTEGER NOT NULL,
    rule_id          TEXT NOT NULL,
    rule_version     INTEGER NOT NULL,
    rule_name        TEXT NOT NULL,
    subject          TEXT NOT NULL,
    subject_type     TEXT,
    severity         TEXT NOT NULL,
    status           TEXT NOT NULL,
    acknowledged_at  TEXT,
    acknowledged_by  TEXT,
    acknowledge_note TEXT,
    cleared_at       TEXT,
    cleared_by       TEXT,
    clear_note       TEXT,
    count            INTEGER NOT NULL,
    first_seen       TEXT NOT NULL,
    last_seen        TEXT NOT NULL,
    value            REAL,
    summary_vi       TEXT NOT NULL,
    summary_en       TEXT NOT NULL,
    labels           TEXT NOT NULL,
    domain           TEXT NOT NULL,
    ward             TEXT,
    location         TEXT,
    silenced         INTEGER NOT NULL,
    escalation_level INTEGER NOT NULL,
    escalate_from    TEXT NOT NULL,
    notified         INTEGER NOT NULL,
    incident_id      TEXT,
    updated_at       TEXT NOT NULL
);
CREATE UNIQUE INDEX ioc_alerts_one_active ON ioc_alerts (tenant_id, rule_id, subject) WHERE status = 'active';
CREATE INDEX ioc_alerts_status ON ioc_alerts (tenant_id, status, last_seen);
CREATE INDEX ioc_alerts_first_seen ON ioc_alerts (tenant_id, first_seen);

CREATE TABLE ioc_alert_facts (
    id        INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL,
    alert_id  TEXT NOT NULL,
    at        TEXT NOT NULL,
    kind      TEXT NOT NULL,
    actor     TEXT NOT NULL,
    detail    TEXT NOT NULL
);
CREATE INDEX ioc_alert_facts_alert ON ioc_alert_facts (tenant_id, alert_id, id);

CREATE TABLE ioc_silences (
    id         TEXT PRIMARY KEY,
    tenant_id  INTEGER NOT NULL,
    matchers   TEXT NOT NULL,
    starts_at  TEXT NOT NULL,
    ends_at    TEXT NOT NULL,
    comment    TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX ioc_silences_window ON ioc_silences (tenant_id, ends_at);

CREATE TABLE ioc_escalation_policies (
    id         TEXT PRIMARY KEY,
    tenant_id  INTEGER NOT NULL,
    name       TEXT NOT NULL,
    matchers   TEXT NOT NULL,
    levels     TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX ioc_escalation_policies_tenant ON ioc_escalation_policies (tenant_id, created_at);

CREATE TABLE ioc_channels (
    id         TEXT PRIMARY KEY,
    tenant_id  INTEGER NOT NULL,
    name       TEXT NOT NULL,
    kind       TEXT NOT NULL,
    target     TEXT NOT NULL,
    matchers   TEXT NOT NULL,
    enabled    INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX ioc_channels_tenant ON ioc_channels (tenant_id, created_at);

CREATE TABLE ioc_alert_outbox (
    id         INTEGER PRIMARY KEY,
    tenant_id  INTEGER NOT NULL,
    channel_id TEXT NOT NULL,
    alert_id   TEXT,
    reason     TEXT NOT NULL,
    payload    TEXT NOT NULL,
    state      TEXT NOT NULL,
    attempts   INTEGER NOT NULL,
    next_at    INTEGER NOT NULL,
    last_error TEXT,
    created_at TEXT NOT NULL,
    done_at    TEXT
);
CREATE INDEX ioc_alert_outbox_due ON ioc_alert_outbox (state, next_at);
CREATE INDEX ioc_alert_outbox_channel ON ioc_alert_outbox (tenant_id, channel_id, id);
