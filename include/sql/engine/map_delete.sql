-- A group of answers at once (%(rows)s: a JSON list of {natural_key_hash}).
DELETE FROM edfi_sync.identity_map
 WHERE end_year = %(end_year)s AND resource = %(resource)s
   AND natural_key_hash IN (SELECT r.natural_key_hash FROM jsonb_to_recordset(%(rows)s) AS r(natural_key_hash text))
