-- Subscriptions and the durable outbox of their notifications.
CREATE TABLE subscriptions (
    tenant_id         INTEGER NOT NULL,
    id                TEXT NOT NULL,
    doc               TEXT NOT NULL,
    context           TEXT NOT NULL,
    is_active         INTEGER NOT NULL DEFAULT 1,
    expires_at        INTEGER,
    time_interval     REAL,
    throttling        REAL,
    created_at        TEXT NOT NULL,
    modified_at       TEXT NOT NULL,
    last_fired        INTEGER,
    times_sent        INTEGER NOT NULL DEFAULT 0,
    times_failed      INTEGER NOT NULL DEFAULT 0,
    last_notification TEXT,
    last_success      TEXT,
    last_failure      TEXT,
    last_error        TEXT,
    PRIMARY KEY (tenant_id, id)
);

CREATE TABLE notification_outbox (
    id              INTEGER PRIMARY KEY,
    tenant_id       INTEGER NOT NULL,
    subscription_id TEXT NOT NULL,
    endpoint        TEXT NOT NULL,
    headers         TEXT NOT NULL,
    body            BLOB NOT NULL,
    created_at      INTEGER NOT NULL,
    due_at          INTEGER NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    claimed_until   INTEGER,
    last_error      TEXT
);
CREATE INDEX notification_outbox_due ON notification_outbox (due_at);
CREATE INDEX notification_outbox_subscription ON notification_outbox (tenant_id, subscription_id);
