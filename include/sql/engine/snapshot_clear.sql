-- Cascades to the snapshot rows.
DELETE FROM edfi_sync.mapping_snapshot_taken WHERE end_year = %(end_year)s AND resource = %(owner)s
