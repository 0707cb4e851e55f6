-- Temporal aggregation without sorting (see hub.temporal.reader.TemporalReader.periods): SQLite groups a computed
-- period by sorting every instance, so a dense series is read period by period instead, with the periods numbered
-- by a join of this table with itself (k = a.k * 1000 + b.k). SQLite knows a join over INTEGER PRIMARY KEYs comes
-- out in key order, so the GROUP BY streams. The numbers 0-999 are written once, here, and never change.
CREATE TABLE temporal_numbers (k INTEGER PRIMARY KEY);
INSERT INTO temporal_numbers (k)
    WITH RECURSIVE n(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM n WHERE k < 999) SELECT k FROM n;
-- The attributes whose history holds a datasetId other than the default one: reading period by period mixes the
-- datasets of an attribute, so those attributes are aggregated by the grouped query. Only rows with a datasetId
-- enter this index, so ordinary writes do not touch it.
CREATE INDEX temporal_instances_datasets ON temporal_instances (tenant_id, entity_id, name) WHERE dataset_id <> '';
