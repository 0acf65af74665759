UPDATE edfi_sync.sync_run SET status = %(status)s, summary = %(summary)s, finished_at = now()
 WHERE run_id = %(run_id)s
