-- The tamper-evident audit trail (a hash chain, see smartcity.security.audit.chain) and the security events.
-- seq is assigned by the writer (1, 2, 3, ... without gaps); at is ISO 8601 UTC text with microseconds.
CREATE TABLE audit_records (
    seq           INTEGER PRIMARY KEY,
    at            TEXT NOT NULL,
    actor         TEXT NOT NULL,
    actor_kind    TEXT NOT NULL,
    role          TEXT NOT NULL,
    credential_id TEXT,
    client        TEXT,
    tenant        TEXT,
    action        TEXT NOT NULL,
    method        TEXT NOT NULL,
    target        TEXT NOT NULL,
    outcome       TEXT NOT NULL,
    status        INTEGER,
    details       TEXT NOT NULL,
    prev_hash     TEXT NOT NULL,
    hash          TEXT NOT NULL
);
CREATE INDEX audit_records_at ON audit_records (at);
CREATE INDEX audit_records_actor ON audit_records (actor);
CREATE INDEX audit_records_action ON audit_records (action);

-- The last record of the chain: one row, locked by every append.
CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  INTEGER NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

CREATE TABLE security_events (
    id            INTEGER PRIMARY KEY,
    at            TEXT NOT NULL,
    kind          TEXT NOT NULL,
    severity      TEXT NOT NULL,
    subject       TEXT NOT NULL,
    credential_id TEXT,
    client        TEXT,
    tenant        TEXT,
    action        TEXT NOT NULL,
    details       TEXT NOT NULL
);
CREATE INDEX security_events_at ON security_events (at);
CREATE INDEX security_events_kind ON security_events (kind, at);
