-- Only the token that was refused: another process may already have stored a fresh one.
DELETE FROM edfi_sync.token_cache WHERE cache_key = %(cache_key)s AND access_token = %(access_token)s
