DELETE FROM edfi_sync.mapping
WHERE end_year = %(end_year)s AND resource = %(resource)s AND field = %(field)s AND sis_value = %(sis_value)s;
