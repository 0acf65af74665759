-- The error log, open problems first; resolved_reason says why a closed one closed (SPEC §6.1).
SELECT error_id, resource, action, status, message, validation_errors, cause, fix, error_class, error_code,
       sis_object_key, student_unique_id, student_name, school_id, run_id, resolved, resolved_reason,
       resolved_at, occurrences, created_at, last_seen_at, request_body
  FROM edfi_sync.error_log
 WHERE end_year = %(end_year)s AND (%(resource)s::text IS NULL OR resource = %(resource)s)
 ORDER BY resolved, last_seen_at DESC, error_id DESC
