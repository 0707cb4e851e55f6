-- Temporal history (NGSI-LD temporal API): one row per attribute instance ever written, partitioned by month
-- of ts (partitions are created by the store; rows outside them land in the default partition).
-- Times are integers: microseconds since 1970-01-01T00:00:00Z (UTC).
CREATE TABLE temporal_entities (
    tenant_id   BIGINT NOT NULL,
    entity_id   TEXT COLLATE "C" NOT NULL,
    types       TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    modified_at BIGINT NOT NULL,
    deleted_at  BIGINT,
    PRIMARY KEY (tenant_id, entity_id)
);

CREATE SEQUENCE temporal_instance_ids;

CREATE TABLE temporal_instances (
    id          BIGINT NOT NULL DEFAULT nextval('temporal_instance_ids'),
    tenant_id   BIGINT NOT NULL,
    entity_id   TEXT COLLATE "C" NOT NULL,
    name        TEXT COLLATE "C" NOT NULL,
    dataset_id  TEXT COLLATE "C" NOT NULL DEFAULT '',
    ts          BIGINT NOT NULL,
    observed    SMALLINT NOT NULL,
    created_at  BIGINT NOT NULL,
    modified_at BIGINT NOT NULL,
    kind        TEXT NOT NULL,
    num         DOUBLE PRECISION,
    doc         JSONB NOT NULL,
    rollup      TEXT
) PARTITION BY RANGE (ts);
CREATE TABLE temporal_instances_default PARTITION OF temporal_instances DEFAULT;
CREATE INDEX temporal_instances_key ON temporal_instances (tenant_id, entity_id, name, ts);
CREATE INDEX temporal_instances_id ON temporal_instances (id);
