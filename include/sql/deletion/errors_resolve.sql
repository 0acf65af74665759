-- A DELETE the sync could not make (a 409: a dependent in the way) that the Delete Tool made: its
-- error is resolved as deleted. Errors of other actions stay: the next run meets those again or not.
UPDATE edfi_sync.error_log
   SET resolved = true, resolved_at = now(), resolved_by_run = %(run_id)s, resolved_reason = 'deleted'
 WHERE end_year = %(end_year)s AND resource = %(resource)s AND sis_object_key = %(sis_object_key)s
   AND action = 'DELETE' AND NOT resolved
