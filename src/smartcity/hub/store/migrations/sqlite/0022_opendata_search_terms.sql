-- Migration 0022 on SQLite; PostgreSQL keeps the same terms as an array instead (its own 0022).
-- SQLite only: a dataset's filter and facet terms coded as integers. opendata_terms numbers each distinct
-- (tenant, field, value) once (rows are never removed: a catalogue has a few hundred to a few thousand terms);
-- opendata_dataset_term_ids holds each dataset's term numbers (the same rows as opendata_dataset_terms).
-- package_search filters on one number per filter and counts the facets of a narrowed search by grouping
-- integers, which SQLite does about three times faster than grouping (field, value) text pairs. The catalogue's
-- writes keep both tables in step (SqlCatalogue._save).
CREATE TABLE opendata_terms (
    id        INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL,
    field     TEXT NOT NULL,
    value     TEXT NOT NULL
);
CREATE UNIQUE INDEX opendata_terms_key ON opendata_terms (tenant_id, field, value);

CREATE TABLE opendata_dataset_term_ids (
    dataset_pk INTEGER NOT NULL,
    term_id    INTEGER NOT NULL,
    PRIMARY KEY (dataset_pk, term_id)
) WITHOUT ROWID;
CREATE INDEX opendata_dataset_term_ids_filter ON opendata_dataset_term_ids (term_id, dataset_pk);

INSERT INTO opendata_terms (tenant_id, field, value)
SELECT DISTINCT tenant_id, field, value FROM opendata_dataset_terms ORDER BY tenant_id, field, value;
INSERT INTO opendata_dataset_term_ids (dataset_pk, term_id)
SELECT t.dataset_pk, k.id FROM opendata_dataset_terms t
JOIN opendata_terms k ON k.tenant_id = t.tenant_id AND k.field = t.field AND k.value = t.value
