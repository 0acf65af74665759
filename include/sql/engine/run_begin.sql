-- The ledger row of a run; Airflow tasks of one run call it again, and the first keeps its origin.
INSERT INTO edfi_sync.sync_run (run_id, end_year, origin, params, dag_id, dag_run_id, task_id)
VALUES (%(run_id)s, %(end_year)s, %(origin)s, %(params)s, %(dag_id)s, %(dag_run_id)s, %(task_id)s)
ON CONFLICT (run_id) DO UPDATE SET status = 'running', finished_at = NULL
