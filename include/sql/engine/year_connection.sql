SELECT conn_id, enabled FROM edfi_sync.connection WHERE end_year = %(end_year)s
