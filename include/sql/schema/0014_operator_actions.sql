-- SPEC §6.1: the operator actions (archive, retry, resync, the Delete Tool) and their audit trail.

-- Archive: who archived an error, and why (archived is a resolution: resolved_reason 'archived').
ALTER TABLE edfi_sync.error_log
    ADD COLUMN archived_by  text,
    ADD COLUMN archive_note text;
-- A problem a record meets again is first looked up among its archived rows (an archived row stays
-- archived while the record fails the same way), as the open rows are (error_log_open).
CREATE INDEX error_log_archived ON edfi_sync.error_log
    (end_year, resource, coalesce(sis_object_key, ''), error_code, action) WHERE resolved_reason = 'archived';

-- Retry (records / --only): a selected staged record whose key the ODS does not hold yet (new,
-- re-keyed or replaced) takes along the children whose keys embed it.
ALTER TABLE edfi_sync.staged_record ADD COLUMN cascades boolean NOT NULL DEFAULT false;

-- The Delete Tool: what a preview found (the records asked for and the dependents the ODS would
-- refuse to delete them over, children first), and what the run that executed it did with each.
-- A run deletes exactly its plan's 'delete' rows, once.
CREATE TABLE edfi_sync.delete_plan (
    plan_id     text        PRIMARY KEY,  -- the preview's DAG run id, or cli__<time>__<hex>
    end_year    integer     NOT NULL,
    requested   jsonb       NOT NULL,     -- the targets as asked (resource + key, or Ed-Fi id)
    created_at  timestamptz NOT NULL DEFAULT now(),
    status      text        NOT NULL DEFAULT 'previewed'
                CHECK (status IN ('previewed', 'running', 'done', 'failed')),
    executed_by text,                     -- the run that executed it (a DAG run id, or cli__...)
    executed_at timestamptz,
    finished_at timestamptz,
    summary     jsonb,                    -- counts of what it holds, then of what its run did
    message     text                      -- why a run failed
);
CREATE INDEX delete_plan_executed ON edfi_sync.delete_plan (executed_by);

CREATE TABLE edfi_sync.delete_plan_record (
    plan_id         text    NOT NULL REFERENCES edfi_sync.delete_plan (plan_id) ON DELETE CASCADE,
    seq             integer NOT NULL,     -- the order of the DELETEs: children first
    resource        text    NOT NULL,
    edfi_id         text,                 -- NULL: a target the ODS does not hold
    natural_key     jsonb,
    role            text    NOT NULL CHECK (role IN ('target', 'dependent')),
    depends_on      integer[] NOT NULL DEFAULT '{}',  -- the seqs of the records this one references
    depth           integer NOT NULL DEFAULT 0,       -- how far from a target
    in_identity_map boolean NOT NULL DEFAULT false,
    sis_object_key  text,
    student_unique_id text,
    action          text    NOT NULL CHECK (action IN ('delete', 'keep')),
    reason          text,                 -- why it is kept
    outcome         text    CHECK (outcome IN ('deleted', 'not_found', 'failed', 'skipped')),
    http_status     integer,
    message         text,
    PRIMARY KEY (plan_id, seq)
);

-- Who did what from the operator pages (and `edfi-sync delete`), with the DAG run it started. How
-- a DAG run's action ended is read from what that run recorded (report/audit.sql): the run ledger
-- for edfi_sync, the plan for edfi_delete.
CREATE TABLE edfi_sync.audit_log (
    audit_id    bigserial   PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    actor       text        NOT NULL,     -- the Airflow user; from the command line, the OS user
    origin      text        NOT NULL CHECK (origin IN ('ui', 'cli')),
    action      text        NOT NULL CHECK (action IN ('archive', 'retry', 'resync_preview', 'resync',
                                                       'delete_preview', 'delete')),
    school_year integer,
    params      jsonb       NOT NULL DEFAULT '{}'::jsonb,
    dag_id      text,
    dag_run_id  text,
    -- For actions done at once (archive, the command line's delete): how they ended.
    outcome     text,
    result      jsonb
);
CREATE INDEX audit_log_at ON edfi_sync.audit_log (at DESC, audit_id DESC);
CREATE INDEX audit_log_dag_run ON edfi_sync.audit_log (dag_run_id);
CREATE INDEX sync_run_dag_run ON edfi_sync.sync_run (dag_run_id);
