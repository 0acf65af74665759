-- Resync: ODS records with neither a SIS record nor a map row (of any year) are deleted. A
-- per-school resync deletes only strays of its schools, and never LEA-level ones.
SELECT o.natural_key_hash, o.natural_key, NULL::text AS sis_object_key, o.edfi_id, o.school_ids,
       NULL::text AS student_unique_id, 'DELETE' AS action
  FROM edfi_sync.ods_record o
 WHERE o.run_id = %(run_id)s AND o.resource = %(resource)s
   AND NOT EXISTS (SELECT 1 FROM edfi_sync.staged_record s
                    WHERE s.run_id = o.run_id AND s.resource = o.resource
                      AND s.natural_key_hash = o.natural_key_hash)
   AND NOT EXISTS (SELECT 1 FROM edfi_sync.identity_map m
                    WHERE m.resource = o.resource AND m.edfi_id = o.edfi_id)
   AND (%(schools)s::text[] IS NULL OR (NOT %(lea_level)s AND o.school_ids && %(schools)s::text[]))
 ORDER BY o.edfi_id
