-- Records whose replace_on values (the diploma date) changed under the same natural key: they are
-- deleted and posted again. Adding or removing those values is an ordinary update.
INSERT INTO edfi_sync.replace_pending (run_id, end_year, resource, partition, natural_key_hash)
SELECT s.run_id, s.end_year, s.resource, s.partition, s.natural_key_hash
  FROM edfi_sync.staged_record s
  JOIN edfi_sync.identity_map m
    ON m.end_year = s.end_year AND m.resource = s.resource AND m.natural_key_hash = s.natural_key_hash
   AND m.edfi_id IS NOT NULL
 WHERE s.run_id = %(run_id)s AND s.resource = %(resource)s AND s.partition = %(partition)s AND s.status = 'staged'
   AND m.replace_hash IS NOT NULL AND s.replace_hash IS NOT NULL AND m.replace_hash <> s.replace_hash
ON CONFLICT DO NOTHING
