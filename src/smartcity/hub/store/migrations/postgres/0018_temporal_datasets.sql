-- The attributes whose history holds a datasetId other than the default one (as SQLite's migration 0011): an
-- aggregation of an attribute without any groups its instances by period alone (a hash on one integer) instead
-- of by period and datasetId (hub.temporal.reader.TemporalReader.attributes). Only rows with a datasetId enter
-- this index, so ordinary writes do not touch it.
CREATE INDEX temporal_instances_datasets ON temporal_instances (tenant_id, entity_id, name) WHERE dataset_id <> '';
