-- Year rollover: copy one year's Resource Preferences to another. Rows the target already has
-- are replaced only when overwrite is true. Every CTE sees the table as it was before the
-- INSERT, so `existing` tells new rows from replaced ones.
WITH source AS (
    SELECT resource, field, sis_value, namespace, code_value
    FROM edfi_sync.mapping WHERE end_year = %(from_year)s
), existing AS (
    SELECT resource, field, sis_value FROM edfi_sync.mapping WHERE end_year = %(to_year)s
), written AS (
    INSERT INTO edfi_sync.mapping (end_year, resource, field, sis_value, namespace, code_value)
    SELECT %(to_year)s, resource, field, sis_value, namespace, code_value FROM source
    ON CONFLICT (end_year, resource, field, sis_value)
    DO UPDATE SET namespace = excluded.namespace, code_value = excluded.code_value
    WHERE %(overwrite)s
    RETURNING resource, field, sis_value
)
SELECT (SELECT count(*) FROM source) AS source_rows,
       (SELECT count(*) FROM written w
         WHERE NOT EXISTS (SELECT 1 FROM existing e
                            WHERE (e.resource, e.field, e.sis_value) = (w.resource, w.field, w.sis_value))) AS added,
       (SELECT count(*) FROM written w
         JOIN existing e ON (e.resource, e.field, e.sis_value) = (w.resource, w.field, w.sis_value)) AS replaced;
