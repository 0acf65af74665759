INSERT INTO edfi_sync.identity_map AS m (end_year, resource, natural_key_hash, natural_key, sis_object_type,
                                         sis_object_key, edfi_id, payload_hash, student_unique_id, school_ids,
                                         last_status, last_run_id, replace_hash)
VALUES (%(end_year)s, %(resource)s, %(natural_key_hash)s, %(natural_key)s, %(sis_object_type)s,
        %(sis_object_key)s, %(edfi_id)s, %(payload_hash)s, %(student_unique_id)s, %(school_ids)s,
        %(status)s, %(run_id)s, %(replace_hash)s)
ON CONFLICT (end_year, resource, natural_key_hash) DO UPDATE
   SET natural_key = excluded.natural_key, sis_object_key = excluded.sis_object_key,
       edfi_id = coalesce(excluded.edfi_id, m.edfi_id), payload_hash = excluded.payload_hash,
       student_unique_id = excluded.student_unique_id, school_ids = excluded.school_ids,
       last_sent_at = now(), last_status = excluded.last_status, last_run_id = excluded.last_run_id,
       replace_hash = excluded.replace_hash
