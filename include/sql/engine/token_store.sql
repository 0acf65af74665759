INSERT INTO edfi_sync.token_cache (cache_key, access_token, expires_at, scope)
VALUES (%(cache_key)s, %(access_token)s, to_timestamp(%(expires_at)s), %(scope)s)
ON CONFLICT (cache_key) DO UPDATE SET access_token = excluded.access_token, expires_at = excluded.expires_at,
                                      scope = excluded.scope
