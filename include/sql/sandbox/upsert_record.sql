INSERT INTO edfi_sandbox.record (store, id, resource, seq, etag, last_modified, body)
VALUES (%(store)s, %(id)s, %(resource)s, %(seq)s, %(etag)s, %(last_modified)s, %(body)s::jsonb)
ON CONFLICT (store, id) DO UPDATE
SET etag = excluded.etag, last_modified = excluded.last_modified, body = excluded.body
