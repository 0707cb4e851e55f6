-- The open data portal's datastore (smartcity.opendata.datastore): one row per datastore resource, scoped by
-- tenant. Each resource's rows live in their own table datastore.ds_<32 hex of the resource id> (created by the
-- datastore, not here), with a generated tsvector column and its GIN index. ``fields`` is the JSON list of columns
-- ({"id", "type", "info"}), ``primary_key`` and ``indexes`` JSON lists; times are ISO 8601 UTC texts.
-- datastore_search_sql runs as smartcity_datastore_reader: a NOLOGIN role that may only read schema datastore
-- (roles are global to the cluster: created once, whichever database migrates first).
CREATE TABLE datastore_tables (
    resource_id   TEXT PRIMARY KEY,
    tenant_id     BIGINT NOT NULL,
    table_name    TEXT NOT NULL UNIQUE,
    fields        TEXT NOT NULL,
    primary_key   TEXT NOT NULL,
    indexes       TEXT NOT NULL,
    row_count     BIGINT NOT NULL,
    created_at    TEXT NOT NULL,
    last_modified TEXT NOT NULL
);
CREATE INDEX datastore_tables_tenant ON datastore_tables (tenant_id, resource_id);
CREATE SCHEMA IF NOT EXISTS datastore;
DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'smartcity_datastore_reader') THEN CREATE ROLE smartcity_datastore_reader NOLOGIN NOSUPERUSER NOINHERIT NOCREATEDB NOCREATEROLE; END IF; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
DO $$ BEGIN EXECUTE 'GRANT smartcity_datastore_reader TO ' || quote_ident(current_user); EXCEPTION WHEN OTHERS THEN NULL; END $$;
REVOKE ALL ON SCHEMA datastore FROM PUBLIC;
GRANT USAGE ON SCHEMA datastore TO smartcity_datastore_reader;
ALTER DEFAULT PRIVILEGES IN SCHEMA datastore GRANT SELECT ON TABLES TO smartcity_datastore_reader
