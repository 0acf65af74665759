-- Children of records that failed (or were skipped) earlier in this run are not sent.
WITH failed AS (
    SELECT p.resource || ':' || p.natural_key_hash AS parent_key, p.sis_object_key, p.resource,
           coalesce(p.error_code, p.status) AS reason
      FROM edfi_sync.staged_record p
     WHERE p.run_id = %(run_id)s AND p.status IN ('failed', 'skipped', 'build_failed')
       AND p.natural_key_hash IS NOT NULL
)
UPDATE edfi_sync.staged_record s
   SET status = 'skipped', error_code = 'parent_failed',
       error_message = (SELECT string_agg(f.resource || ' ' || f.sis_object_key || ' (' || f.reason || ')', ', ')
                          FROM failed f WHERE f.parent_key = ANY (s.parent_keys))
 WHERE s.run_id = %(run_id)s AND s.resource = %(resource)s AND s.status = 'staged'
   AND s.parent_keys && (SELECT coalesce(array_agg(parent_key), '{}') FROM failed)
RETURNING s.sis_object_key, s.natural_key_hash, s.payload, s.student_unique_id, s.student_name,
          s.school_ids, s.error_message
