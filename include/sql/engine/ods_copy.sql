COPY edfi_sync.ods_record (run_id, end_year, resource, edfi_id, natural_key_hash, natural_key, school_ids)
FROM STDIN
