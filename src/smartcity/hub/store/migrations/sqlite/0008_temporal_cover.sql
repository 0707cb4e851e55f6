-- Temporal aggregation reads only the key, the dataset, the number and the kind of each instance: the history
-- key index carries them, so a year of 5-minute data aggregates from the index alone (no table lookups).
DROP INDEX temporal_instances_key;
CREATE INDEX temporal_instances_key ON temporal_instances (tenant_id, entity_id, name, ts, dataset_id, num, kind);
