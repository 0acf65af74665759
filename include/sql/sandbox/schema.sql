-- The Ed-Fi sandbox's storage: one row per resource item, per store ('' = shared routes, else a school year).
-- Idempotent: run at every start.
CREATE SCHEMA IF NOT EXISTS edfi_sandbox;

CREATE TABLE IF NOT EXISTS edfi_sandbox.store (
    name       text PRIMARY KEY,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS edfi_sandbox.record (
    store         text   NOT NULL REFERENCES edfi_sandbox.store (name) ON DELETE CASCADE,
    id            text   NOT NULL,
    resource      text   NOT NULL,
    seq           bigint NOT NULL,   -- creation order: the order GET pages in
    etag          text   NOT NULL,
    last_modified text   NOT NULL,
    body          jsonb  NOT NULL,
    PRIMARY KEY (store, id)
);
