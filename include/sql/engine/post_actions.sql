-- POST for new natural keys, PUT for changed payloads; for resources whose key a PUT may change,
-- a new key of a known SIS object whose old key is no longer produced is a PUT to the old id.
SELECT s.partition, s.seq, s.natural_key_hash, s.natural_key, s.sis_object_key, s.payload, s.payload_hash, s.school_ids,
       s.student_unique_id, s.student_name, s.replace_hash,
       coalesce(m.edfi_id, moved.edfi_id) AS edfi_id,
       moved.natural_key_hash AS old_key_hash,
       CASE WHEN m.natural_key_hash IS NOT NULL OR moved.natural_key_hash IS NOT NULL THEN 'PUT' ELSE 'POST' END
           AS action
  FROM edfi_sync.staged_record s
  LEFT JOIN edfi_sync.identity_map m
         ON m.end_year = s.end_year AND m.resource = s.resource AND m.natural_key_hash = s.natural_key_hash
         AND m.edfi_id IS NOT NULL
  LEFT JOIN LATERAL (
        SELECT o.natural_key_hash, o.edfi_id
          FROM edfi_sync.identity_map o
         WHERE %(key_change_by_put)s AND m.natural_key_hash IS NULL
           AND o.end_year = s.end_year AND o.resource = s.resource AND o.sis_object_key = s.sis_object_key
           AND o.edfi_id IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM edfi_sync.staged_record p
                            WHERE p.run_id = s.run_id AND p.resource = s.resource
                              AND p.natural_key_hash = o.natural_key_hash)
         ORDER BY o.last_sent_at DESC
         LIMIT 1) moved ON true
 WHERE s.run_id = %(run_id)s AND s.resource = %(resource)s AND s.status = 'staged'
   -- A post step sends its partition's records; the update step every partition's (NULL).
   AND (%(partition)s::integer IS NULL OR s.partition = %(partition)s)
   AND (CASE WHEN m.natural_key_hash IS NOT NULL OR moved.natural_key_hash IS NOT NULL
             THEN 'PUT' ELSE 'POST' END) = ANY (%(actions)s)
 ORDER BY s.partition, s.seq
