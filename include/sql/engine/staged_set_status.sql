UPDATE edfi_sync.staged_record
   SET status = %(status)s, error_code = %(error_code)s, error_message = %(error_message)s
 WHERE run_id = %(run_id)s AND resource = %(resource)s AND partition = %(partition)s AND seq = %(seq)s
