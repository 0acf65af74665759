-- A later success for the same SIS object resolves its earlier errors, saying how (sent, deleted);
-- not those this run logged (one SIS object may make several records: a student's records of other
-- terms succeed while one of his transcripts still fails).
UPDATE edfi_sync.error_log
   SET resolved = true, resolved_at = now(), resolved_by_run = %(run_id)s, resolved_reason = %(reason)s
 WHERE end_year = %(end_year)s AND resource = %(resource)s AND sis_object_key = %(sis_object_key)s
   AND NOT resolved AND run_id <> %(run_id)s
