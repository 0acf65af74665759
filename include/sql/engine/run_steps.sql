SELECT resource, phase, status, counts FROM edfi_sync.resource_step WHERE run_id = %(run_id)s ORDER BY started_at
