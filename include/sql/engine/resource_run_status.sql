SELECT status, started_at, staged_rows, staged_digest FROM edfi_sync.resource_run
 WHERE run_id = %(run_id)s AND resource = %(resource)s AND phase = %(phase)s
