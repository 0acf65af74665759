-- Records the SIS yields for the year (one per natural key), in this partition.
SELECT count(DISTINCT natural_key_hash) FROM edfi_sync.staged_record
 WHERE run_id = %(run_id)s AND resource = %(resource)s AND partition = %(partition)s
   AND natural_key_hash IS NOT NULL
