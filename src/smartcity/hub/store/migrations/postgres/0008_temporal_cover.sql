-- Temporal aggregation reads only the key, the dataset, the number and the kind of each instance: the history
-- key index carries them (INCLUDE), so aggregations are index-only scans once autovacuum has seen the rows.
DROP INDEX temporal_instances_key;
CREATE INDEX temporal_instances_key ON temporal_instances (tenant_id, entity_id, name, ts) INCLUDE (dataset_id, num, kind);
