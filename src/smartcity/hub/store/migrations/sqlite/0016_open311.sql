-- Citizen reports (smartcity.ioc.open311): one row per Open311 service request, bound to a hub tenant.
-- service_request_id is the public id (the row id as text), token the handle GET tokens/{token} answers for.
-- lat/lon are empty for a report located by a ward named in its address. attributes is the JSON object of
-- the checked attribute values. email, phone, first_name, last_name, device_id, account_id and api_key_id are
-- personal or internal: stored for the departments, never published. Times are ISO 8601 UTC text
-- (requested_at, updated_at) and integer microseconds since the Unix epoch (requested_us, for date filters).
CREATE TABLE open311_requests (
    id                 INTEGER PRIMARY KEY,
    tenant_id          INTEGER NOT NULL,
    service_request_id TEXT,
    token              TEXT NOT NULL,
    service_code       TEXT NOT NULL,
    description        TEXT,
    address            TEXT,
    lat                REAL,
    lon                REAL,
    ward               TEXT,
    attributes         TEXT NOT NULL,
    media              TEXT,
    email              TEXT,
    phone              TEXT,
    first_name         TEXT,
    last_name          TEXT,
    device_id          TEXT,
    account_id         TEXT,
    api_key_id         TEXT,
    locale             TEXT NOT NULL,
    incident_id        TEXT,
    department         TEXT,
    requested_at       TEXT NOT NULL,
    requested_us       INTEGER NOT NULL,
    updated_at         TEXT NOT NULL
);
CREATE UNIQUE INDEX open311_requests_public ON open311_requests (tenant_id, service_request_id);
CREATE UNIQUE INDEX open311_requests_token ON open311_requests (tenant_id, token);
CREATE INDEX open311_requests_time ON open311_requests (tenant_id, requested_us, id);
CREATE INDEX open311_requests_incident ON open311_requests (tenant_id, incident_id);
