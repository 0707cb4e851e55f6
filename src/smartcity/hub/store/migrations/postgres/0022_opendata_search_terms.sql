-- Migration 0022 on PostgreSQL; SQLite keeps the same terms as numbers instead (its own 0022).
-- PostgreSQL only: a dataset's filter and facet terms ('field:value', the same rows as opendata_dataset_terms)
-- kept on the dataset as an array with a GIN index. package_search filters with one containment test
-- (terms @> '{...}') and counts facets by unnesting the hits' own arrays, instead of joining the terms table once
-- per filter and once more for the facets. The catalogue's writes keep both in step (SqlCatalogue._save).
ALTER TABLE opendata_datasets ADD COLUMN terms TEXT[] NOT NULL DEFAULT '{}';
UPDATE opendata_datasets d SET terms = COALESCE(
    (SELECT array_agg(t.field || ':' || t.value ORDER BY t.field, t.value)
     FROM opendata_dataset_terms t WHERE t.dataset_pk = d.pk),
    '{}');
CREATE INDEX opendata_datasets_terms ON opendata_datasets USING GIN (terms);
