-- SPEC §4: connector state. The three configuration tables are a fixed contract;
-- identity map, error log and run ledger are ours.
CREATE SCHEMA IF NOT EXISTS edfi_sync;

-- Which Ed-Fi connection serves school year end_year ("years with valid configuration").
CREATE TABLE edfi_sync.connection (
    end_year integer PRIMARY KEY,
    conn_id  text    NOT NULL DEFAULT 'edfi_api',
    enabled  boolean NOT NULL DEFAULT true
);

-- No row means ON; a NULL enabled is read as ON too.
CREATE TABLE edfi_sync.resource_toggle (
    end_year integer,
    resource text,
    enabled  boolean,
    PRIMARY KEY (end_year, resource)
);

-- Resource Preferences: SIS value -> Ed-Fi descriptor (namespace#code_value).
CREATE TABLE edfi_sync.mapping (
    end_year   integer,
    resource   text,
    field      text,
    sis_value  text,
    namespace  text,
    code_value text,
    PRIMARY KEY (end_year, resource, field, sis_value)
);

-- The Ed-Fi Identity Mapping Report: one row per record the ODS holds because we sent it.
CREATE TABLE edfi_sync.identity_map (
    end_year          integer     NOT NULL,
    resource          text        NOT NULL,
    natural_key_hash  text        NOT NULL,
    natural_key       jsonb       NOT NULL,
    sis_object_type   text        NOT NULL,
    sis_object_key    text        NOT NULL,
    edfi_id           text,
    payload_hash      text        NOT NULL,
    student_unique_id text,
    school_ids        text[]      NOT NULL DEFAULT '{}',
    first_sent_at     timestamptz NOT NULL DEFAULT now(),
    last_sent_at      timestamptz NOT NULL DEFAULT now(),
    last_status       integer,
    last_run_id       text,
    PRIMARY KEY (end_year, resource, natural_key_hash)
);
-- Key changes are found through the SIS object key; resync and DELETE go by Ed-Fi id.
CREATE INDEX identity_map_object_key ON edfi_sync.identity_map (end_year, resource, sis_object_key);
CREATE INDEX identity_map_edfi_id ON edfi_sync.identity_map (edfi_id);
-- Per-school resync selects by the Ed-Fi schoolIds a record relates to.
CREATE INDEX identity_map_schools ON edfi_sync.identity_map USING gin (school_ids);

-- Run ledger: one row per sync run, one per (run, resource, phase).
CREATE TABLE edfi_sync.sync_run (
    run_id      text        PRIMARY KEY,
    end_year    integer     NOT NULL,
    origin      text        NOT NULL DEFAULT 'cli',
    params      jsonb       NOT NULL DEFAULT '{}'::jsonb,
    status      text        NOT NULL DEFAULT 'running'
                CHECK (status IN ('running', 'success', 'record_errors', 'failed')),
    summary     jsonb,
    started_at  timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz
);
CREATE INDEX sync_run_year ON edfi_sync.sync_run (end_year, started_at DESC);

CREATE TABLE edfi_sync.resource_run (
    run_id      text        NOT NULL REFERENCES edfi_sync.sync_run (run_id) ON DELETE CASCADE,
    end_year    integer     NOT NULL,
    resource    text        NOT NULL,
    phase       text        NOT NULL CHECK (phase IN ('post', 'update', 'delete')),
    status      text        NOT NULL DEFAULT 'running',
    counts      jsonb       NOT NULL DEFAULT '{}'::jsonb,
    sis_count   integer,
    ods_count   integer,
    map_count   integer,
    started_at  timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    PRIMARY KEY (run_id, resource, phase)
);
CREATE INDEX resource_run_year ON edfi_sync.resource_run (end_year, resource, started_at DESC);

-- Error log (SPEC §4, §8): every failure with the Ed-Fi answer and our cause and fix.
CREATE TABLE edfi_sync.error_log (
    error_id          bigserial   PRIMARY KEY,
    run_id            text        NOT NULL,
    end_year          integer     NOT NULL,
    resource          text        NOT NULL,
    sis_object_key    text,
    natural_key_hash  text,
    action            text        NOT NULL CHECK (action IN ('POST', 'PUT', 'DELETE', 'BUILD', 'GET')),
    status            integer,
    error_code        text        NOT NULL,
    error_class       text        NOT NULL
                      CHECK (error_class IN ('retryable', 'data', 'missing_reference', 'authorization', 'ignorable')),
    message           text,
    validation_errors jsonb,
    cause             text        NOT NULL,
    fix               text        NOT NULL,
    request_body      jsonb,
    student_unique_id text,
    student_name      text,
    school_id         text,
    created_at        timestamptz NOT NULL DEFAULT now(),
    -- A problem seen again by later runs updates its open row instead of piling up copies.
    last_seen_at      timestamptz NOT NULL DEFAULT now(),
    occurrences       integer     NOT NULL DEFAULT 1,
    resolved          boolean     NOT NULL DEFAULT false,
    resolved_at       timestamptz,
    resolved_by_run   text
);
CREATE UNIQUE INDEX error_log_open ON edfi_sync.error_log
    (end_year, resource, coalesce(sis_object_key, ''), error_code, action) WHERE NOT resolved;
CREATE INDEX error_log_run ON edfi_sync.error_log (run_id);
CREATE INDEX error_log_year ON edfi_sync.error_log (end_year, created_at DESC);

-- What the SIS produces this run, staged so the diff against the identity map is one SQL join
-- whatever the row count. Unlogged: it is rebuilt by every run, a crash may lose it.
CREATE UNLOGGED TABLE edfi_sync.staged_record (
    run_id            text    NOT NULL,
    end_year          integer NOT NULL,
    resource          text    NOT NULL,
    seq               bigint  NOT NULL,
    natural_key_hash  text,
    natural_key       jsonb,
    sis_object_key    text    NOT NULL,
    payload           jsonb,
    payload_hash      text,
    school_ids        text[]  NOT NULL DEFAULT '{}',
    student_unique_id text,
    student_name      text,
    error_code        text,
    error_message     text,
    precedence        numeric[] NOT NULL DEFAULT '{}',
    parent_keys       text[]  NOT NULL DEFAULT '{}',
    -- staged | unchanged | sent | failed | skipped | build_failed | duplicate: children read it
    -- to skip records whose parent failed in this run.
    status            text    NOT NULL DEFAULT 'staged',
    PRIMARY KEY (run_id, resource, seq)
);
CREATE INDEX staged_record_key ON edfi_sync.staged_record (run_id, resource, natural_key_hash);
CREATE INDEX staged_record_object ON edfi_sync.staged_record (run_id, resource, sis_object_key);

-- What a resync found in the ODS, staged like the SIS side so the comparison is SQL.
CREATE UNLOGGED TABLE edfi_sync.ods_record (
    run_id           text    NOT NULL,
    end_year         integer NOT NULL,
    resource         text    NOT NULL,
    edfi_id          text    NOT NULL,
    natural_key_hash text,
    natural_key      jsonb,
    school_ids       text[]  NOT NULL DEFAULT '{}',
    PRIMARY KEY (run_id, resource, edfi_id)
);

-- One bearer token per Ed-Fi client shared by every task and process (the ODS limits live tokens
-- per client). Keyed by a digest of base URL and client key; the token expires within minutes.
CREATE TABLE edfi_sync.token_cache (
    cache_key    text        PRIMARY KEY,
    access_token text        NOT NULL,
    expires_at   timestamptz NOT NULL
);
