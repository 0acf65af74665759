-- SPEC §6.1: the operator pages link a run and an error to the Airflow task that made them, and an
-- error's lifecycle (open -> resolved | archived) says why it closed.

-- Which DAG run and task opened an engine run (NULL from the CLI). dag_run_id is the Airflow run
-- id the engine run id <dag_run_id>__<end_year> was made of.
ALTER TABLE edfi_sync.sync_run
    ADD COLUMN dag_id     text,
    ADD COLUMN dag_run_id text,
    ADD COLUMN task_id    text;

-- A run that died without closing its ledger row (its lock is free) is abandoned, not running.
ALTER TABLE edfi_sync.sync_run DROP CONSTRAINT sync_run_status_check;
ALTER TABLE edfi_sync.sync_run ADD CONSTRAINT sync_run_status_check
    CHECK (status IN ('running', 'success', 'record_errors', 'failed', 'abandoned'));

-- The task that last logged the error, and why a closed error closed: sent, unchanged (staged fine
-- and already in the ODS), deleted, gone (the SIS no longer yields it), archived (by an operator).
ALTER TABLE edfi_sync.error_log
    ADD COLUMN dag_id          text,
    ADD COLUMN task_id         text,
    ADD COLUMN resolved_reason text
        CHECK (resolved_reason IN ('sent', 'unchanged', 'deleted', 'gone', 'archived'));
-- Before this migration only a later success resolved an error.
UPDATE edfi_sync.error_log SET resolved_reason = 'sent' WHERE resolved;
ALTER TABLE edfi_sync.error_log
    ADD CONSTRAINT error_log_resolved_reason CHECK (resolved = (resolved_reason IS NOT NULL));
