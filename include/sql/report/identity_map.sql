-- The Ed-Fi Identity Mapping Report.
SELECT resource, sis_object_type, sis_object_key, natural_key, edfi_id, student_unique_id, school_ids,
       payload_hash, first_sent_at, last_sent_at, last_status, last_run_id
  FROM edfi_sync.identity_map
 WHERE end_year = %(end_year)s AND (%(resource)s::text IS NULL OR resource = %(resource)s)
 ORDER BY resource, sis_object_key, natural_key_hash
