ANALYZE edfi_sync.identity_map (end_year, resource, natural_key_hash, sis_object_key, edfi_id, payload_hash)
