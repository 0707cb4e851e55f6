-- The operations centre's incidents (smartcity.ioc.incidents): one row per incident (its checklist and labels as
-- JSON text), its timeline (every change and comment, never updated), the link from an alert or a citizen report
-- to the incident it opened, and the per-year counter of the human numbers (INC-<year>-<6 digits>).
-- Times are ISO 8601 UTC text with microseconds and Z (fixed width: they sort and compare as text).
-- "version" grows with every change: a change is written only over the version it read (optimistic locking).
CREATE TABLE ioc_incidents (
    tenant_id       INTEGER NOT NULL,
    id              TEXT NOT NULL,
    number          TEXT NOT NULL,
    type            TEXT NOT NULL,
    title           TEXT NOT NULL,
    description     TEXT NOT NULL,
    severity        TEXT NOT NULL,
    status          TEXT NOT NULL,
    department      TEXT NOT NULL,
    assignee        TEXT,
    ward            TEXT,
    location        TEXT,
    domain          TEXT NOT NULL,
    source          TEXT NOT NULL,
    source_ref      TEXT,
    labels          TEXT NOT NULL,
    opened_at       TEXT NOT NULL,
    opened_by       TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    acknowledged_at TEXT,
    due_at          TEXT NOT NULL,
    warn_at         TEXT NOT NULL,
    sla_warned      INTEGER NOT NULL,
    sla_breached    INTEGER NOT NULL,
    resolved_at     TEXT,
    closed_at       TEXT,
    resolution      TEXT,
    checklist       TEXT NOT NULL,
    version         INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX ioc_incidents_number ON ioc_incidents (tenant_id, number);
CREATE INDEX ioc_incidents_status ON ioc_incidents (tenant_id, status, due_at);
CREATE INDEX ioc_incidents_department ON ioc_incidents (tenant_id, department, status);
CREATE INDEX ioc_incidents_opened ON ioc_incidents (tenant_id, opened_at);

CREATE TABLE ioc_incident_timeline (
    id          INTEGER PRIMARY KEY,
    tenant_id   INTEGER NOT NULL,
    incident_id TEXT NOT NULL,
    at          TEXT NOT NULL,
    actor       TEXT NOT NULL,
    kind        TEXT NOT NULL,
    detail      TEXT NOT NULL,
    public      INTEGER NOT NULL
);
CREATE INDEX ioc_incident_timeline_incident ON ioc_incident_timeline (tenant_id, incident_id, id);

CREATE TABLE ioc_incident_sources (
    tenant_id   INTEGER NOT NULL,
    source      TEXT NOT NULL,
    source_ref  TEXT NOT NULL,
    incident_id TEXT NOT NULL,
    PRIMARY KEY (tenant_id, source, source_ref)
);

CREATE TABLE ioc_incident_numbers (
    tenant_id INTEGER NOT NULL,
    year      INTEGER NOT NULL,
    last      INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, year)
);
