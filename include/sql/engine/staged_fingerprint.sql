-- A partition's staged rows of one resource as post.X wrote them: later steps change only their status.
SELECT count(*)::integer AS staged_rows,
       md5(coalesce(string_agg(seq || ':' || coalesce(natural_key_hash, '-') || ':' || sis_object_key, ','
                               ORDER BY seq), '')) AS staged_digest
  FROM edfi_sync.staged_record
 WHERE run_id = %(run_id)s AND resource = %(resource)s AND partition = %(partition)s
