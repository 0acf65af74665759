-- The natural keys the identity map holds for some error rows (a 409 row's link to the Delete Tool).
SELECT end_year, resource, natural_key_hash, natural_key
  FROM edfi_sync.identity_map
 WHERE natural_key_hash = ANY (%(hashes)s::text[])
