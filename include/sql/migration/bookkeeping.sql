-- Which numbered files of include/sql/schema/ a database has had applied.
CREATE SCHEMA IF NOT EXISTS edfi_sync;
CREATE TABLE IF NOT EXISTS edfi_sync.schema_migration (
    version    integer     PRIMARY KEY,
    name       text        NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
);
