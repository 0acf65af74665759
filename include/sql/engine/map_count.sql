SELECT count(*) FROM edfi_sync.identity_map WHERE end_year = %(end_year)s AND resource = %(resource)s
