-- The IoT agent (smartcity.iot): config groups and devices as provisioned through /iot/services and
-- /iot/devices (doc: the FIWARE JSON), the dead letters of refused device messages and per-device counters.
-- A group's API key identifies it for the southbound: unique over every service. A device is found by its
-- API key and id. Times of dead letters and counters are integer microseconds since the Unix epoch (UTC).
CREATE TABLE iot_groups (
    id           INTEGER PRIMARY KEY,
    tenant_id    INTEGER NOT NULL,
    service_path TEXT NOT NULL,
    apikey       TEXT NOT NULL,
    resource     TEXT NOT NULL,
    entity_type  TEXT NOT NULL,
    doc          TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    modified_at  TEXT NOT NULL
);
CREATE UNIQUE INDEX iot_groups_apikey ON iot_groups (apikey);
CREATE INDEX iot_groups_scope ON iot_groups (tenant_id, service_path, id);

CREATE TABLE iot_devices (
    id           INTEGER PRIMARY KEY,
    tenant_id    INTEGER NOT NULL,
    service_path TEXT NOT NULL,
    device_id    TEXT NOT NULL,
    apikey       TEXT NOT NULL,
    entity_name  TEXT NOT NULL,
    entity_type  TEXT NOT NULL,
    doc          TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    modified_at  TEXT NOT NULL
);
CREATE UNIQUE INDEX iot_devices_key ON iot_devices (apikey, device_id);
CREATE INDEX iot_devices_scope ON iot_devices (tenant_id, service_path, id);
CREATE INDEX iot_devices_id ON iot_devices (tenant_id, device_id);

-- One row: bumped by every provisioning change, so that each process drops its cached devices.
CREATE TABLE iot_registry (
    id      INTEGER PRIMARY KEY,
    version INTEGER NOT NULL
);
INSERT INTO iot_registry (id, version) VALUES (1, 0);

CREATE TABLE iot_deadletters (
    id           INTEGER PRIMARY KEY,
    tenant_id    INTEGER NOT NULL,
    service_path TEXT NOT NULL,
    apikey       TEXT NOT NULL,
    device_id    TEXT NOT NULL,
    transport    TEXT NOT NULL,
    topic        TEXT NOT NULL,
    reason       TEXT NOT NULL,
    detail       TEXT NOT NULL,
    partial      INTEGER NOT NULL,
    payload      BLOB NOT NULL,
    received_at  INTEGER NOT NULL
);
CREATE INDEX iot_deadletters_device ON iot_deadletters (tenant_id, device_id, id);
CREATE INDEX iot_deadletters_tenant ON iot_deadletters (tenant_id, id);

CREATE TABLE iot_device_stats (
    tenant_id        INTEGER NOT NULL,
    apikey           TEXT NOT NULL,
    device_id        TEXT NOT NULL,
    received         INTEGER NOT NULL,
    accepted         INTEGER NOT NULL,
    rejected         INTEGER NOT NULL,
    partial          INTEGER NOT NULL,
    last_received_at INTEGER,
    last_accepted_at INTEGER,
    last_rejected_at INTEGER,
    last_error       TEXT,
    PRIMARY KEY (tenant_id, apikey, device_id)
);

CREATE TABLE iot_rejections (
    tenant_id INTEGER NOT NULL,
    apikey    TEXT NOT NULL,
    device_id TEXT NOT NULL,
    reason    TEXT NOT NULL,
    count     INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, apikey, device_id, reason)
);
