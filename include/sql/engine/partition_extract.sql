-- A partition's share of a student-level extract (the resource's own file goes in the braces below):
-- the rows of its students (SPEC §6.1). Every student-level extract selects the student's state_id.
SELECT * FROM (
{extract}
) AS extract
 WHERE edfi_sync.student_partition(extract.state_id, %(partitions)s) = %(partition)s
