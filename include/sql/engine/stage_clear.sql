-- Staged rows of earlier runs (or of this run's interrupted attempt) for the resource.
DELETE FROM edfi_sync.staged_record WHERE end_year = %(end_year)s AND resource = %(resource)s
