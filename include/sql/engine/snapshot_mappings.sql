SELECT resource, field, sis_value, namespace, code_value FROM edfi_sync.mapping_snapshot WHERE end_year = %(end_year)s
