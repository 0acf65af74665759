-- Resync: what the ODS holds was just copied in (a transaction's own rows count).
ANALYZE edfi_sync.ods_record, edfi_sync.identity_map (end_year, resource, natural_key_hash, sis_object_key, edfi_id, payload_hash)
