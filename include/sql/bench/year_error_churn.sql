-- bench/retention_year.py: a day of error churn: the oldest open errors are fixed in the SIS
-- (resolved, sent) and as many new problems open; every other open error was seen again by each run.
WITH fixed AS (
    UPDATE edfi_sync.error_log
       SET resolved = true, resolved_reason = 'sent', resolved_at = %(at)s, resolved_by_run = %(run_id)s
     WHERE error_id IN (SELECT error_id FROM edfi_sync.error_log WHERE NOT resolved ORDER BY error_id LIMIT %(n)s)
    RETURNING *
), seen AS (
    UPDATE edfi_sync.error_log SET occurrences = occurrences + %(runs)s, last_seen_at = %(at)s
     WHERE NOT resolved AND error_id NOT IN (SELECT error_id FROM fixed)
)
INSERT INTO edfi_sync.error_log (run_id, end_year, resource, sis_object_key, natural_key_hash, action, status,
                                 error_code, error_class, message, validation_errors, cause, fix, request_body,
                                 student_unique_id, student_name, school_id, created_at, last_seen_at, dag_id, task_id)
SELECT %(run_id)s, end_year, resource, coalesce(sis_object_key, '') || '~' || %(tag)s, natural_key_hash, action,
       status, error_code, error_class, message, validation_errors, cause, fix, request_body, student_unique_id,
       student_name, school_id, %(at)s, %(at)s, dag_id, task_id
  FROM fixed
