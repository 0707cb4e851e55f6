-- A per-tenant counter bumped in every transaction that changes the tenant's subscriptions: each server process
-- compares it with the version of its in-memory subscription index once per entity write transaction.
CREATE TABLE subscription_versions (
    tenant_id BIGINT PRIMARY KEY,
    version   BIGINT NOT NULL
);
