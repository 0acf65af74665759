-- Year rollover for resource toggles (see copy_mappings.sql for the counting).
WITH source AS (
    SELECT resource, enabled FROM edfi_sync.resource_toggle WHERE end_year = %(from_year)s
), existing AS (
    SELECT resource FROM edfi_sync.resource_toggle WHERE end_year = %(to_year)s
), written AS (
    INSERT INTO edfi_sync.resource_toggle (end_year, resource, enabled)
    SELECT %(to_year)s, resource, enabled FROM source
    ON CONFLICT (end_year, resource) DO UPDATE SET enabled = excluded.enabled
    WHERE %(overwrite)s
    RETURNING resource
)
SELECT (SELECT count(*) FROM source) AS source_rows,
       (SELECT count(*) FROM written WHERE resource NOT IN (SELECT resource FROM existing)) AS added,
       (SELECT count(*) FROM written WHERE resource IN (SELECT resource FROM existing)) AS replaced;
