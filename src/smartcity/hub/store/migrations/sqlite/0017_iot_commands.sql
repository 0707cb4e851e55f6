-- The IoT agent, FIWARE conventions continued: a config group is identified by its API key and resource (several
-- groups may share an API key), and the commands sent to devices (one row per command an NGSI-LD client
-- triggered, from queued to sent to done; value: its JSON; transport: mqtt or http). Times are integer
-- microseconds since the Unix epoch (UTC).
DROP INDEX iot_groups_apikey;
CREATE UNIQUE INDEX iot_groups_apikey_resource ON iot_groups (apikey, resource);

CREATE TABLE iot_commands (
    id           INTEGER PRIMARY KEY,
    tenant_id    INTEGER NOT NULL,
    entity_id    TEXT NOT NULL,
    apikey       TEXT NOT NULL,
    device_id    TEXT NOT NULL,
    name         TEXT NOT NULL,
    value        TEXT NOT NULL,
    transport    TEXT NOT NULL,
    state        TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    sent_at      INTEGER,
    expires_at   INTEGER
);
CREATE INDEX iot_commands_state ON iot_commands (state, id);
CREATE INDEX iot_commands_device ON iot_commands (apikey, device_id, name, state);
