SELECT access_token, extract(epoch FROM expires_at), scope FROM edfi_sync.token_cache
 WHERE cache_key = %(cache_key)s AND expires_at > now()
