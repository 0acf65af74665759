-- Staged records a post or update step may still send, new keys and known keys (its progress total):
-- a post step's partition, or every partition (the update step: NULL).
SELECT count(*) FILTER (WHERE m.natural_key_hash IS NULL) AS new_keys, count(m.natural_key_hash) AS known_keys
  FROM edfi_sync.staged_record s
  LEFT JOIN edfi_sync.identity_map m
         ON m.end_year = s.end_year AND m.resource = s.resource AND m.natural_key_hash = s.natural_key_hash
 WHERE s.run_id = %(run_id)s AND s.resource = %(resource)s AND s.status = 'staged'
   AND (%(partition)s::integer IS NULL OR s.partition = %(partition)s)
