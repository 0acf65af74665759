UPDATE edfi_sync.resource_run SET staged_rows = %(staged_rows)s, staged_digest = %(staged_digest)s
 WHERE run_id = %(run_id)s AND resource = %(resource)s AND phase = 'post' AND partition = %(partition)s
