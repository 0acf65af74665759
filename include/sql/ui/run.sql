-- One engine run (the run page's header).
SELECT run_id, end_year, origin, dag_id, dag_run_id, task_id, status, params, summary, started_at, finished_at
  FROM edfi_sync.sync_run
 WHERE run_id = %(run_id)s::text
