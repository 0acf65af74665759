-- Map rows the SIS no longer produces at all. Kept: records whose SIS object is still there but
-- failed, was skipped or is a duplicate this run; records outside the school selection; LEA-level
-- records during a per-school run; records a retry did not select (neither named nor staged in its
-- selection); records a PUT moves to a new key (post_actions; their map row is re-keyed by then,
-- except in a dry run, which must not count them as deleted too); and (shared instance) records
-- another enabled year still holds.
SELECT m.natural_key_hash, m.natural_key, m.sis_object_key, m.edfi_id, m.school_ids, m.student_unique_id,
       'DELETE' AS action
  FROM edfi_sync.identity_map m
 WHERE m.end_year = %(end_year)s AND m.resource = %(resource)s AND m.edfi_id IS NOT NULL
   -- Rows another run sent after this run staged are that run's business.
   AND m.last_sent_at < %(staged_at)s
   AND NOT EXISTS (SELECT 1 FROM edfi_sync.staged_record s
                    WHERE s.run_id = %(run_id)s AND s.resource = m.resource
                      AND s.natural_key_hash = m.natural_key_hash)
   AND NOT EXISTS (SELECT 1 FROM edfi_sync.staged_record s
                    WHERE s.run_id = %(run_id)s AND s.resource = m.resource
                      AND s.sis_object_key = m.sis_object_key
                      AND s.status IN ('failed', 'skipped', 'build_failed'))
   AND (%(schools)s::text[] IS NULL OR (NOT %(lea_level)s AND m.school_ids && %(schools)s::text[]))
   AND NOT (%(key_change_by_put)s AND EXISTS (
            SELECT 1 FROM edfi_sync.staged_record s
             WHERE s.run_id = %(run_id)s AND s.resource = m.resource AND s.sis_object_key = m.sis_object_key
               AND s.status = 'staged'
               AND NOT EXISTS (SELECT 1 FROM edfi_sync.identity_map n
                                WHERE n.end_year = m.end_year AND n.resource = m.resource
                                  AND n.natural_key_hash = s.natural_key_hash AND n.edfi_id IS NOT NULL)))
   AND (NOT %(selective)s OR m.sis_object_key = ANY (%(record_keys)s::text[])
        OR EXISTS (SELECT 1 FROM edfi_sync.staged_record s
                    WHERE s.run_id = %(run_id)s AND s.resource = m.resource
                      AND s.sis_object_key = m.sis_object_key AND s.status <> 'out_of_selection'))
   AND NOT (%(shared_instance)s AND EXISTS (
            SELECT 1 FROM edfi_sync.identity_map other
              JOIN edfi_sync.connection c ON c.end_year = other.end_year AND c.enabled
             WHERE other.edfi_id = m.edfi_id AND other.end_year <> m.end_year AND other.resource = m.resource))
 ORDER BY m.natural_key_hash
