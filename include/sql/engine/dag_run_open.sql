-- The engine runs of a DAG run that are still open when the DAG run ends (its tasks close a run
-- only when every step of the plan finished): one per school year.
SELECT run_id, end_year, coalesce((params ->> 'dry_run')::boolean, false) AS dry_run
  FROM edfi_sync.sync_run
 WHERE dag_run_id = %(dag_run_id)s AND status = 'running'
 ORDER BY end_year
