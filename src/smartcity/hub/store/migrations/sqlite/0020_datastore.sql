-- The open data portal's datastore (smartcity.opendata.datastore): one row per datastore resource, scoped by
-- tenant. Each resource's rows live in their own table ds_<32 hex of the resource id> in this database (created
-- by the datastore, not here), with an FTS5 index ds_<hex>_fts over its text columns. ``fields`` is the JSON list
-- of columns ({"id", "type", "info"}), ``primary_key`` and ``indexes`` JSON lists; times are ISO 8601 UTC texts.
CREATE TABLE datastore_tables (
    resource_id   TEXT PRIMARY KEY,
    tenant_id     INTEGER NOT NULL,
    table_name    TEXT NOT NULL UNIQUE,
    fields        TEXT NOT NULL,
    primary_key   TEXT NOT NULL,
    indexes       TEXT NOT NULL,
    row_count     INTEGER NOT NULL,
    created_at    TEXT NOT NULL,
    last_modified TEXT NOT NULL
);
CREATE INDEX datastore_tables_tenant ON datastore_tables (tenant_id, resource_id);
