-- When each owner's mapping snapshot of the year was taken (part of a build's context).
SELECT resource, taken_at FROM edfi_sync.mapping_snapshot_taken WHERE end_year = %(end_year)s
