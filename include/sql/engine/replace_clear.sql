-- Forget earlier marks of these resources in this partition (this step's or a crashed run's):
-- marking starts afresh; other partitions' marks are theirs.
DELETE FROM edfi_sync.replace_pending
 WHERE end_year = %(end_year)s AND resource = ANY (%(resources)s) AND partition = %(partition)s
