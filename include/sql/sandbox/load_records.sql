SELECT id, resource, seq, etag, last_modified, body::text
FROM edfi_sandbox.record
WHERE store = %(store)s
ORDER BY seq
