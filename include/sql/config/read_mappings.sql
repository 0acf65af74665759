-- Resource Preferences of one year, or of every year when end_year is NULL.
SELECT end_year, resource, field, sis_value, namespace, code_value
FROM edfi_sync.mapping
WHERE %(end_year)s::integer IS NULL OR end_year = %(end_year)s::integer
ORDER BY end_year, resource, field, sis_value;
