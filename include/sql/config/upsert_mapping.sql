INSERT INTO edfi_sync.mapping (end_year, resource, field, sis_value, namespace, code_value)
VALUES (%(end_year)s, %(resource)s, %(field)s, %(sis_value)s, %(namespace)s, %(code_value)s)
ON CONFLICT (end_year, resource, field, sis_value)
DO UPDATE SET namespace = excluded.namespace, code_value = excluded.code_value;
