-- One error-log row, everything about it (the Error Log's detail page).
SELECT e.*, edfi_sync.error_state(e.resolved, e.resolved_reason) AS state, r.dag_run_id
  FROM edfi_sync.error_log e
  LEFT JOIN edfi_sync.sync_run r ON r.run_id = e.run_id
 WHERE e.error_id = %(error_id)s
