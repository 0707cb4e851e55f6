-- Attribute indexes keyed by a 64-bit key of the attribute IRI (see hub.store.keys.name_key) instead of the
-- IRI itself: index entries shrink from ~70 to ~20 bytes, so inserts dirty far fewer pages.
ALTER TABLE attrs ADD COLUMN name_id INTEGER NOT NULL DEFAULT 0;
UPDATE attrs SET name_id = ngsi_name_key(name);
DROP INDEX attrs_key;
CREATE UNIQUE INDEX attrs_key ON attrs (entity_pk, name_id, dataset_id);
DROP INDEX attrs_name_num;
CREATE INDEX attrs_name_num ON attrs (name_id, num) WHERE num IS NOT NULL;
DROP INDEX attrs_name_txt;
CREATE INDEX attrs_name_txt ON attrs (name_id, txt) WHERE txt IS NOT NULL;
DROP INDEX attrs_multi;
CREATE INDEX attrs_multi ON attrs (name_id, entity_pk) WHERE dataset_id <> '';
DROP INDEX attrs_elements;
CREATE INDEX attrs_elements ON attrs (name_id, entity_pk) WHERE vtype IN ('array', 'language');
