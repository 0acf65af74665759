-- Same natural key, same payload hash: nothing to send (an unchanged run sends zero requests).
UPDATE edfi_sync.staged_record s
   SET status = 'unchanged'
  FROM edfi_sync.identity_map m
 WHERE s.run_id = %(run_id)s AND s.resource = %(resource)s AND s.partition = %(partition)s AND s.status = 'staged'
   AND m.end_year = s.end_year AND m.resource = s.resource AND m.natural_key_hash = s.natural_key_hash
   AND m.payload_hash = s.payload_hash AND m.edfi_id IS NOT NULL
