-- The engine runs of one DAG run (one per school year), with the errors each logged first (new
-- since the last run) and the year's open errors in all.
SELECT r.run_id, r.end_year, r.status, r.started_at,
       (SELECT count(*) FROM edfi_sync.error_log e
         WHERE e.run_id = r.run_id AND e.created_at >= r.started_at) AS new_errors,
       (SELECT count(*) FROM edfi_sync.error_log e
         WHERE e.end_year = r.end_year AND NOT e.resolved) AS open_errors
  FROM edfi_sync.sync_run r
 WHERE r.dag_run_id = %(dag_run_id)s
 ORDER BY r.end_year
