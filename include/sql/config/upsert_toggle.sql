INSERT INTO edfi_sync.resource_toggle (end_year, resource, enabled)
VALUES (%(end_year)s, %(resource)s, %(enabled)s)
ON CONFLICT (end_year, resource) DO UPDATE SET enabled = excluded.enabled;
