-- Steps a run left unfinished when it is closed (a killed task that was never retried).
UPDATE edfi_sync.resource_run SET status = 'abandoned'
 WHERE run_id = %(run_id)s AND finished_at IS NULL
