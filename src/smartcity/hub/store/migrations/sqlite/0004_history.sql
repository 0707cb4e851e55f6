-- Temporal history (NGSI-LD temporal API): one row per attribute instance ever written.
-- Times are integers: microseconds since 1970-01-01T00:00:00Z (UTC).
CREATE TABLE temporal_entities (
    tenant_id   INTEGER NOT NULL,
    entity_id   TEXT NOT NULL,
    types       TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    modified_at INTEGER NOT NULL,
    deleted_at  INTEGER,
    PRIMARY KEY (tenant_id, entity_id)
) WITHOUT ROWID;

CREATE TABLE temporal_instances (
    id          INTEGER PRIMARY KEY,
    tenant_id   INTEGER NOT NULL,
    entity_id   TEXT NOT NULL,
    name        TEXT NOT NULL,
    dataset_id  TEXT NOT NULL DEFAULT '',
    ts          INTEGER NOT NULL,
    observed    INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    modified_at INTEGER NOT NULL,
    kind        TEXT NOT NULL,
    num         REAL,
    doc         TEXT NOT NULL,
    rollup      TEXT
);
CREATE INDEX temporal_instances_key ON temporal_instances (tenant_id, entity_id, name, ts);
