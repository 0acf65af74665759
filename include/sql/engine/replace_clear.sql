-- Forget earlier marks of these resources (this step's or a crashed run's): marking starts afresh.
DELETE FROM edfi_sync.replace_pending WHERE end_year = %(end_year)s AND resource = ANY (%(resources)s)
