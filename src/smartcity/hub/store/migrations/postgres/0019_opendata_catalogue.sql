-- The open data catalogue (smartcity.opendata.catalogue), every row bound to a hub tenant. opendata_groups holds
-- the organisations (city departments, is_organization = 1) and the groups (themes), as CKAN does; doc is the
-- CKAN dictionary (JSON). A dataset's doc is its whole package_show dictionary; visibility is 2 for an active
-- public dataset, 1 for an active private one, 0 for a draft or deleted one; title_sort is its folded title.
-- opendata_dataset_terms holds the values a dataset is filtered and faceted by (organization, groups, tags,
-- res_format, license_id, frequency), with the dataset's visibility copied. opendata_facet_counts keeps how many
-- datasets of each visibility (1, 2) have each term, updated with every write, so the facets of the whole
-- catalogue (the portal's front page) are read, not counted.
-- search is the full-text vector ('simple' configuration, weights A title, B tags, C the rest) of an active
-- dataset's text folded without diacritics by the application, NULL otherwise. Times are ISO 8601 UTC text.
CREATE TABLE opendata_groups (
    tenant_id       BIGINT NOT NULL,
    id              TEXT NOT NULL,
    name            TEXT NOT NULL,
    is_organization BIGINT NOT NULL,
    title           TEXT NOT NULL,
    doc             TEXT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX opendata_groups_name ON opendata_groups (tenant_id, name);

CREATE TABLE opendata_datasets (
    pk                BIGSERIAL PRIMARY KEY,
    tenant_id         BIGINT NOT NULL,
    id                TEXT NOT NULL,
    name              TEXT NOT NULL,
    title_sort        TEXT NOT NULL,
    visibility        BIGINT NOT NULL,
    metadata_created  TEXT NOT NULL,
    metadata_modified TEXT NOT NULL,
    doc               TEXT NOT NULL,
    search            TSVECTOR
);
CREATE UNIQUE INDEX opendata_datasets_id ON opendata_datasets (tenant_id, id);
CREATE UNIQUE INDEX opendata_datasets_name ON opendata_datasets (tenant_id, name);
CREATE INDEX opendata_datasets_modified ON opendata_datasets (tenant_id, visibility, metadata_modified);
CREATE INDEX opendata_datasets_search ON opendata_datasets USING GIN (search);

CREATE TABLE opendata_dataset_terms (
    tenant_id  BIGINT NOT NULL,
    dataset_pk BIGINT NOT NULL,
    field      TEXT NOT NULL,
    value      TEXT NOT NULL,
    visibility BIGINT NOT NULL,
    PRIMARY KEY (dataset_pk, field, value)
);
CREATE INDEX opendata_dataset_terms_facet ON opendata_dataset_terms (tenant_id, field, visibility, value);
CREATE INDEX opendata_dataset_terms_filter ON opendata_dataset_terms (tenant_id, field, value, dataset_pk);

CREATE TABLE opendata_facet_counts (
    tenant_id  BIGINT NOT NULL,
    field      TEXT NOT NULL,
    visibility BIGINT NOT NULL,
    value      TEXT NOT NULL,
    n          BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, field, visibility, value)
);

CREATE TABLE opendata_resources (
    tenant_id  BIGINT NOT NULL,
    id         TEXT NOT NULL,
    dataset_pk BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX opendata_resources_dataset ON opendata_resources (dataset_pk)
