-- The IoT agent (smartcity.iot): config groups and devices as provisioned through /iot/services and
-- /iot/devices (doc: the FIWARE JSON), the dead letters of refused device messages and per-device counters.
-- A group's API key identifies it for the southbound: unique over every service. A device is found by its
-- API key and id. Times of dead letters and counters are integer microseconds since the Unix epoch (UTC).
CREATE TABLE iot_groups (
    id           BIGSERIAL PRIMARY KEY,
    tenant_id    BIGINT NOT NULL,
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
    id           BIGSERIAL PRIMARY KEY,
    tenant_id    BIGINT NOT NULL,
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
    id      BIGINT PRIMARY KEY,
    version BIGINT NOT NULL
);
INSERT INTO iot_registry (id, version) VALUES (1, 0);

CREATE TABLE iot_deadletters (
    id           BIGSERIAL PRIMARY KEY,
    tenant_id    BIGINT NOT NULL,
    service_path TEXT NOT NULL,
    apikey       TEXT NOT NULL,
    device_id    TEXT NOT NULL,
    transport    TEXT NOT NULL,
    topic        TEXT NOT NULL,
    reason       TEXT NOT NULL,
    detail       TEXT NOT NULL,
    partial      BIGINT NOT NULL,
    payload      BYTEA NOT NULL,
    received_at  BIGINT NOT NULL
);
CREATE INDEX iot_deadletters_device ON iot_deadletters (tenant_id, device_id, id);
CREATE INDEX iot_deadletters_tenant ON iot_deadletters (tenant_id, id);

CREATE TABLE iot_device_stats (
    tenant_id        BIGINT NOT NULL,
    apikey           TEXT NOT NULL,
    device_id        TEXT NOT NULL,
    received         BIGINT NOT NULL,
    accepted         BIGINT NOT NULL,
    rejected         BIGINT NOT NULL,
    partial          BIGINT NOT NULL,
    last_received_at BIGINT,
    last_accepted_at BIGINT,
    last_rejected_at BIGINT,
    last_error       TEXT,
    PRIMARY KEY (tenant_id, apikey, device_id)
);

CREATE TABLE iot_rejections (
    tenant_id BIGINT NOT NULL,
    apikey    TEXT NOT NULL,
    device_id TEXT NOT NULL,
    reason    TEXT NOT NULL,
    count     BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, apikey, device_id, reason)
);
