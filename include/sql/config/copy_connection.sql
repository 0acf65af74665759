-- Year rollover for the connection row (see copy_mappings.sql for the counting).
WITH source AS (
    SELECT conn_id, enabled FROM edfi_sync.connection WHERE end_year = %(from_year)s
), existing AS (
    SELECT end_year FROM edfi_sync.connection WHERE end_year = %(to_year)s
), written AS (
    INSERT INTO edfi_sync.connection (end_year, conn_id, enabled)
    SELECT %(to_year)s, conn_id, enabled FROM source
    ON CONFLICT (end_year) DO UPDATE SET conn_id = excluded.conn_id, enabled = excluded.enabled
    WHERE %(overwrite)s
    RETURNING end_year
)
SELECT (SELECT count(*) FROM source) AS source_rows,
       (SELECT count(*) FROM written WHERE NOT EXISTS (SELECT 1 FROM existing)) AS added,
       (SELECT count(*) FROM written WHERE EXISTS (SELECT 1 FROM existing)) AS replaced;
