-- The columns the diff joins and filters on (not the payloads, whose statistics cost most).
ANALYZE edfi_sync.staged_record (run_id, resource, seq, natural_key_hash, sis_object_key, status, source_digest)
