-- The open data portal's publications (smartcity.opendata.publish): where each publication's dataset and
-- datastore resource are in the catalogue and how far its history is published, and every run (scheduled or
-- asked for), with its outcome. Times are ISO 8601 UTC text.
CREATE TABLE opendata_publications (
    tenant_id       BIGINT NOT NULL,
    publication_id  TEXT NOT NULL,
    dataset_id      TEXT,
    resource_id     TEXT,
    published_until TEXT,
    temporal_start  TEXT,
    temporal_end    TEXT,
    updated_at      TEXT NOT NULL,
    PRIMARY KEY (tenant_id, publication_id)
);

CREATE TABLE opendata_publication_runs (
    id             BIGSERIAL PRIMARY KEY,
    tenant_id      BIGINT NOT NULL,
    publication_id TEXT NOT NULL,
    cause          TEXT NOT NULL,
    started_at     TEXT NOT NULL,
    finished_at    TEXT,
    status         TEXT NOT NULL,
    row_count      BIGINT,
    error          TEXT
);
CREATE INDEX opendata_publication_runs_latest ON opendata_publication_runs (tenant_id, publication_id, id);
-- one run of a publication at a time, whichever process runs it
CREATE UNIQUE INDEX opendata_publication_runs_one_running ON opendata_publication_runs (tenant_id, publication_id)
    WHERE status = 'running';
