UPDATE edfi_sync.resource_run
   SET status = %(status)s, counts = %(counts)s, sis_count = %(sis_count)s, ods_count = %(ods_count)s,
       map_count = %(map_count)s, finished_at = now()
 WHERE run_id = %(run_id)s AND resource = %(resource)s AND phase = %(phase)s AND partition = %(partition)s
