-- A per-school run leaves records of other schools as they are (neither sent nor deleted);
-- records that relate to no school (LEA level) may still be posted.
UPDATE edfi_sync.staged_record
   SET status = 'out_of_selection'
 WHERE run_id = %(run_id)s AND resource = %(resource)s AND partition = %(partition)s AND status = 'staged'
   AND school_ids <> '{}' AND NOT school_ids && %(schools)s::text[]
