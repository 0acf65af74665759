-- SPEC §6.1: a CLI run whose lock (run_lock.sql) is free but that is still 'running' died (kill -9,
-- a lost connection): it is abandoned, with the steps it left open. Never by age. Airflow runs
-- (dag_run_id set) are closed by their DAG run's end instead (dag_run_open.sql). The lock is tried
-- on the candidates only, and held until this transaction ends.
WITH candidates AS MATERIALIZED (
    SELECT run_id FROM edfi_sync.sync_run
     WHERE status = 'running' AND dag_run_id IS NULL AND run_id <> %(run_id)s
), dead AS MATERIALIZED (
    SELECT run_id FROM candidates
     WHERE pg_try_advisory_xact_lock(hashtextextended('edfi_sync:run:' || run_id, 0))
), abandoned AS (
    UPDATE edfi_sync.sync_run r SET status = 'abandoned', finished_at = now()
      FROM dead WHERE r.run_id = dead.run_id AND r.status = 'running'
    RETURNING r.run_id
)
UPDATE edfi_sync.resource_run s SET status = 'abandoned'
  FROM abandoned WHERE s.run_id = abandoned.run_id AND s.finished_at IS NULL
