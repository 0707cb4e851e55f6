-- Subscriptions and the durable outbox of their notifications.
CREATE TABLE subscriptions (
    tenant_id         BIGINT NOT NULL,
    id                TEXT NOT NULL,
    doc               TEXT NOT NULL,
    context           TEXT NOT NULL,
    is_active         SMALLINT NOT NULL DEFAULT 1,
    expires_at        BIGINT,
    time_interval     DOUBLE PRECISION,
    throttling        DOUBLE PRECISION,
    created_at        TEXT NOT NULL,
    modified_at       TEXT NOT NULL,
    last_fired        BIGINT,
    times_sent        BIGINT NOT NULL DEFAULT 0,
    times_failed      BIGINT NOT NULL DEFAULT 0,
    last_notification TEXT,
    last_success      TEXT,
    last_failure      TEXT,
    last_error        TEXT,
    PRIMARY KEY (tenant_id, id)
);

CREATE TABLE notification_outbox (
    id              BIGSERIAL PRIMARY KEY,
    tenant_id       BIGINT NOT NULL,
    subscription_id TEXT NOT NULL,
    endpoint        TEXT NOT NULL,
    headers         TEXT NOT NULL,
    body            BYTEA NOT NULL,
    created_at      BIGINT NOT NULL,
    due_at          BIGINT NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0,
    claimed_until   BIGINT,
    last_error      TEXT
);
CREATE INDEX notification_outbox_due ON notification_outbox (due_at);
CREATE INDEX notification_outbox_subscription ON notification_outbox (tenant_id, subscription_id);
