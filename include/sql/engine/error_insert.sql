-- One open row per (record, problem): a later run that meets it again refreshes that row.
INSERT INTO edfi_sync.error_log AS e (run_id, end_year, resource, sis_object_key, natural_key_hash, action, status,
                                      error_code, error_class, message, validation_errors, cause, fix, request_body,
                                      student_unique_id, student_name, school_id, dag_id, task_id)
VALUES (%(run_id)s, %(end_year)s, %(resource)s, %(sis_object_key)s, %(natural_key_hash)s, %(action)s, %(status)s,
        %(error_code)s, %(error_class)s, %(message)s, %(validation_errors)s, %(cause)s, %(fix)s, %(request_body)s,
        %(student_unique_id)s, %(student_name)s, %(school_id)s, %(dag_id)s, %(task_id)s)
ON CONFLICT (end_year, resource, coalesce(sis_object_key, ''), error_code, action) WHERE NOT resolved DO UPDATE
   SET run_id = excluded.run_id, status = excluded.status, message = excluded.message,
       validation_errors = excluded.validation_errors, request_body = excluded.request_body,
       natural_key_hash = excluded.natural_key_hash, student_unique_id = excluded.student_unique_id,
       student_name = excluded.student_name, school_id = excluded.school_id,
       dag_id = excluded.dag_id, task_id = excluded.task_id,
       last_seen_at = now(), occurrences = e.occurrences + 1
