-- Mapping rows that differ from the snapshot their owning resource's last resync took
-- (SPEC §5). Resources without a snapshot have nothing waiting: their first run takes current values.
WITH current_rows AS (
    SELECT m.end_year, m.resource, m.field, m.sis_value, m.namespace, m.code_value
    FROM edfi_sync.mapping m
    JOIN edfi_sync.mapping_snapshot_taken t ON t.end_year = m.end_year AND t.resource = m.resource
    WHERE %(end_year)s::integer IS NULL OR m.end_year = %(end_year)s::integer
), snapshot_rows AS (
    SELECT end_year, resource, field, sis_value, namespace, code_value
    FROM edfi_sync.mapping_snapshot
    WHERE %(end_year)s::integer IS NULL OR end_year = %(end_year)s::integer
)
SELECT coalesce(c.end_year, s.end_year)   AS end_year,
       coalesce(c.resource, s.resource)   AS resource,
       coalesce(c.field, s.field)         AS field,
       coalesce(c.sis_value, s.sis_value) AS sis_value,
       CASE WHEN s.sis_value IS NULL THEN 'added'
            WHEN c.sis_value IS NULL THEN 'removed'
            ELSE 'changed' END            AS change,
       s.namespace AS old_namespace, s.code_value AS old_code_value,
       c.namespace AS new_namespace, c.code_value AS new_code_value
FROM current_rows c
FULL JOIN snapshot_rows s
       ON s.end_year = c.end_year AND s.resource = c.resource
      AND s.field = c.field AND s.sis_value = c.sis_value
WHERE s.sis_value IS NULL OR c.sis_value IS NULL
   OR (c.namespace, c.code_value) IS DISTINCT FROM (s.namespace, s.code_value)
ORDER BY 1, 2, 3, 4;
