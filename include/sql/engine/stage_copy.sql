COPY edfi_sync.staged_record (run_id, end_year, resource, partition, seq, natural_key_hash, natural_key,
                              sis_object_key, payload, payload_hash, school_ids, student_unique_id, student_name,
                              precedence, parent_keys, status, error_code, error_message, replace_hash, source_digest)
FROM STDIN
