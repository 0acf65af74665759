-- A dry run takes no snapshot: owners with none yet, and owners it resyncs, read the current values.
SELECT resource, field, sis_value, namespace, code_value FROM edfi_sync.mapping_snapshot
 WHERE end_year = %(end_year)s AND resource <> ALL (%(current)s::text[])
UNION ALL
SELECT m.resource, m.field, m.sis_value, m.namespace, m.code_value FROM edfi_sync.mapping m
 WHERE m.end_year = %(end_year)s
   AND (m.resource = ANY (%(current)s::text[])
        OR NOT EXISTS (SELECT 1 FROM edfi_sync.mapping_snapshot_taken t
                        WHERE t.end_year = m.end_year AND t.resource = m.resource))
