-- The engine runs of one Airflow DAG run, one per school year.
SELECT run_id, end_year
  FROM edfi_sync.sync_run
 WHERE dag_id = %(dag_id)s AND dag_run_id = %(dag_run_id)s
 ORDER BY end_year
