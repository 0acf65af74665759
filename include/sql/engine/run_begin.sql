INSERT INTO edfi_sync.sync_run (run_id, end_year, origin, params)
VALUES (%(run_id)s, %(end_year)s, %(origin)s, %(params)s)
ON CONFLICT (run_id) DO UPDATE SET status = 'running', finished_at = NULL
