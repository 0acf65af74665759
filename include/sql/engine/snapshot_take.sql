-- The owner's current Resource Preferences become what incremental runs read (after snapshot_clear).
WITH header AS (
    INSERT INTO edfi_sync.mapping_snapshot_taken (end_year, resource, run_id)
    VALUES (%(end_year)s, %(owner)s, %(run_id)s)
    RETURNING end_year, resource
)
INSERT INTO edfi_sync.mapping_snapshot (end_year, resource, field, sis_value, namespace, code_value)
SELECT m.end_year, m.resource, m.field, m.sis_value, m.namespace, m.code_value
  FROM edfi_sync.mapping m JOIN header h ON h.end_year = m.end_year AND h.resource = m.resource
