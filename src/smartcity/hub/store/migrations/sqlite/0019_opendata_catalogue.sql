-- The open data catalogue (smartcity.opendata.catalogue), every row bound to a hub tenant. opendata_groups holds
-- the organisations (city departments, is_organization = 1) and the groups (themes), as CKAN does; doc is the
-- CKAN dictionary (JSON). A dataset's doc is its whole package_show dictionary; visibility is 2 for an active
-- public dataset, 1 for an active private one, 0 for a draft or deleted one; title_sort is its folded title.
-- opendata_dataset_terms holds the values a dataset is filtered and faceted by (organization, groups, tags,
-- res_format, license_id, frequency), with the dataset's visibility copied. opendata_facet_counts keeps how many
-- datasets of each visibility (1, 2) have each term, updated with every write, so the facets of the whole
-- catalogue (the portal's front page) are read, not counted.
-- opendata_search is the full-text index (FTS5, rowid = the dataset's pk) of the active datasets, over text
-- folded without diacritics by the application. Times are ISO 8601 UTC text.
CREATE TABLE opendata_groups (
    tenant_id       INTEGER NOT NULL,
    id              TEXT NOT NULL,
    name            TEXT NOT NULL,
    is_organization INTEGER NOT NULL,
    title           TEXT NOT NULL,
    doc             TEXT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX opendata_groups_name ON opendata_groups (tenant_id, name);

CREATE TABLE opendata_datasets (
    pk                INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id         INTEGER NOT NULL,
    id                TEXT NOT NULL,
    name              TEXT NOT NULL,
    title_sort        TEXT NOT NULL,
    visibility        INTEGER NOT NULL,
    metadata_created  TEXT NOT NULL,
    metadata_modified TEXT NOT NULL,
    doc               TEXT NOT NULL
);
CREATE UNIQUE INDEX opendata_datasets_id ON opendata_datasets (tenant_id, id);
CREATE UNIQUE INDEX opendata_datasets_name ON opendata_datasets (tenant_id, name);
CREATE INDEX opendata_datasets_modified ON opendata_datasets (tenant_id, visibility, metadata_modified);

CREATE TABLE opendata_dataset_terms (
    tenant_id  INTEGER NOT NULL,
    dataset_pk INTEGER NOT NULL,
    field      TEXT NOT NULL,
    value      TEXT NOT NULL,
    visibility INTEGER NOT NULL,
    PRIMARY KEY (dataset_pk, field, value)
);
CREATE INDEX opendata_dataset_terms_facet ON opendata_dataset_terms (tenant_id, field, visibility, value);
CREATE INDEX opendata_dataset_terms_filter ON opendata_dataset_terms (tenant_id, field, value, dataset_pk);

CREATE TABLE opendata_facet_counts (
    tenant_id  INTEGER NOT NULL,
    field      TEXT NOT NULL,
    visibility INTEGER NOT NULL,
    value      TEXT NOT NULL,
    n          INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, field, visibility, value)
);

CREATE TABLE opendata_resources (
    tenant_id  INTEGER NOT NULL,
    id         TEXT NOT NULL,
    dataset_pk INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX opendata_resources_dataset ON opendata_resources (dataset_pk);

CREATE VIRTUAL TABLE opendata_search USING fts5(title, tags, body, tokenize = 'unicode61 remove_diacritics 0');
