-- Resource toggles; a NULL enabled reads as ON, like no row at all.
SELECT end_year, resource, coalesce(enabled, true) AS enabled
FROM edfi_sync.resource_toggle
WHERE %(end_year)s::integer IS NULL OR end_year = %(end_year)s::integer
ORDER BY end_year, resource;
