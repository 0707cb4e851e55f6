-- NGSI-LD entities, one row per entity, one row per attribute instance.
CREATE TABLE tenants (
    id          BIGSERIAL PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    created_at  TEXT NOT NULL
);

CREATE TABLE entities (
    pk          BIGSERIAL PRIMARY KEY,
    tenant_id   BIGINT NOT NULL REFERENCES tenants(id),
    id          TEXT COLLATE "C" NOT NULL,
    types       TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    modified_at TEXT NOT NULL,
    UNIQUE (tenant_id, id)
);

CREATE INDEX entities_tenant_pk ON entities (tenant_id, pk);

CREATE TABLE entity_types (
    tenant_id   BIGINT NOT NULL,
    type        TEXT COLLATE "C" NOT NULL,
    entity_pk   BIGINT NOT NULL REFERENCES entities(pk) ON DELETE CASCADE,
    PRIMARY KEY (tenant_id, type, entity_pk)
);
CREATE INDEX entity_types_entity ON entity_types (entity_pk);

CREATE TABLE attrs (
    rid         BIGSERIAL PRIMARY KEY,
    entity_pk   BIGINT NOT NULL REFERENCES entities(pk) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    dataset_id  TEXT NOT NULL DEFAULT '',
    kind        TEXT NOT NULL,
    vtype       TEXT NOT NULL,
    num         DOUBLE PRECISION,
    txt         TEXT COLLATE "C",
    doc         JSONB NOT NULL,
    bbox        BOX
);
CREATE UNIQUE INDEX attrs_key ON attrs (entity_pk, name, dataset_id);
CREATE INDEX attrs_name_num ON attrs (name, num) WHERE num IS NOT NULL;
CREATE INDEX attrs_name_txt ON attrs (name, txt) WHERE txt IS NOT NULL;
CREATE INDEX attrs_multi ON attrs (name, entity_pk) WHERE dataset_id <> '';
CREATE INDEX attrs_bbox ON attrs USING GIST (bbox) WHERE bbox IS NOT NULL;

CREATE TABLE jsonld_contexts (
    id          TEXT PRIMARY KEY,
    body        TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
