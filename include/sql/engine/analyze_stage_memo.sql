ANALYZE edfi_sync.stage_memo (end_year, resource, source_digest, context, natural_key_hash)
