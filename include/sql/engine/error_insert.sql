-- One open row per (record, problem): a later run that meets it again refreshes that row.
-- An archived problem stays archived while the record keeps failing the same way (SPEC §6.1): with
-- no open row for it, the latest row of the record's (code, action) is archived, holds the same
-- message and validation errors, and the record was not sent since it was last seen. That row is
-- refreshed instead; anything else (a different error) opens a row as usual.
WITH archived AS (
    UPDATE edfi_sync.error_log a
       SET run_id = %(run_id)s, status = %(status)s, request_body = %(request_body)s,
           natural_key_hash = %(natural_key_hash)s, student_unique_id = %(student_unique_id)s,
           student_name = %(student_name)s, school_id = %(school_id)s, dag_id = %(dag_id)s, task_id = %(task_id)s,
           last_seen_at = now(), occurrences = a.occurrences + 1
      FROM (SELECT x.error_id FROM edfi_sync.error_log x  -- error_log_archived: usually nothing
             WHERE x.resolved_reason = 'archived' AND x.end_year = %(end_year)s AND x.resource = %(resource)s
               AND coalesce(x.sis_object_key, '') = coalesce(%(sis_object_key)s, '')
               AND x.error_code = %(error_code)s AND x.action = %(action)s
             ORDER BY x.error_id DESC LIMIT 1) last_archived
     WHERE a.error_id = last_archived.error_id
       AND a.message IS NOT DISTINCT FROM %(message)s
       AND a.validation_errors IS NOT DISTINCT FROM %(validation_errors)s::jsonb
       AND NOT EXISTS (SELECT 1 FROM edfi_sync.error_log later
                        WHERE later.end_year = a.end_year AND later.resource = a.resource
                          AND later.sis_object_key IS NOT DISTINCT FROM a.sis_object_key
                          AND later.error_code = a.error_code AND later.action = a.action
                          AND later.error_id > a.error_id)
       AND NOT EXISTS (SELECT 1 FROM edfi_sync.identity_map m
                        WHERE m.end_year = a.end_year AND m.resource = a.resource
                          AND m.sis_object_key = a.sis_object_key AND m.last_sent_at > a.last_seen_at)
    RETURNING a.error_id
)
INSERT INTO edfi_sync.error_log AS e (run_id, end_year, resource, sis_object_key, natural_key_hash, action, status,
                                      error_code, error_class, message, validation_errors, cause, fix, request_body,
                                      student_unique_id, student_name, school_id, dag_id, task_id)
SELECT %(run_id)s, %(end_year)s, %(resource)s, %(sis_object_key)s, %(natural_key_hash)s, %(action)s, %(status)s,
       %(error_code)s, %(error_class)s, %(message)s, %(validation_errors)s, %(cause)s, %(fix)s, %(request_body)s,
       %(student_unique_id)s, %(student_name)s, %(school_id)s, %(dag_id)s, %(task_id)s
 WHERE NOT EXISTS (SELECT 1 FROM archived)
ON CONFLICT (end_year, resource, coalesce(sis_object_key, ''), error_code, action) WHERE NOT resolved DO UPDATE
   SET run_id = excluded.run_id, status = excluded.status, message = excluded.message,
       validation_errors = excluded.validation_errors, request_body = excluded.request_body,
       natural_key_hash = excluded.natural_key_hash, student_unique_id = excluded.student_unique_id,
       student_name = excluded.student_name, school_id = excluded.school_id,
       dag_id = excluded.dag_id, task_id = excluded.task_id,
       last_seen_at = now(), occurrences = e.occurrences + 1
