-- The DELETEs of a replacement (children's before their parent's, by the caller's order).
SELECT m.natural_key_hash, m.natural_key, m.sis_object_key, m.edfi_id, m.school_ids, m.student_unique_id,
       'DELETE' AS action
  FROM edfi_sync.replace_pending p
  JOIN edfi_sync.identity_map m
    ON m.end_year = p.end_year AND m.resource = p.resource AND m.natural_key_hash = p.natural_key_hash
 WHERE p.run_id = %(run_id)s AND p.resource = %(resource)s AND p.partition = %(partition)s
   AND m.edfi_id IS NOT NULL
 ORDER BY m.natural_key_hash
