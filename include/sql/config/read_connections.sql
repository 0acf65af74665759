-- The connection row of each year (all years when end_year is NULL).
SELECT end_year, conn_id, enabled
FROM edfi_sync.connection
WHERE %(end_year)s::integer IS NULL OR end_year = %(end_year)s::integer
ORDER BY end_year;
