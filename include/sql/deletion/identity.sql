-- Which of the ODS records a preview found the identity map holds (ours), with their SIS keys. On a
-- shared-instance ODS a record another year's map holds is ours too.
SELECT DISTINCT ON (m.edfi_id) m.edfi_id, m.sis_object_key, m.student_unique_id
  FROM edfi_sync.identity_map m
 WHERE m.resource = %(resource)s AND m.edfi_id = ANY (%(ids)s::text[])
   AND (m.end_year = %(end_year)s OR %(shared_instance)s)
 ORDER BY m.edfi_id, m.end_year = %(end_year)s DESC, m.end_year DESC
