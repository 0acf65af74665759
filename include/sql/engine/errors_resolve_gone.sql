-- SPEC §6.1: a SIS object the run's complete stage no longer holds at all is gone, and so are its
-- BUILD/POST/PUT errors; not while a map row of it still waits for its DELETE (the delete step
-- resolves those as deleted, or a 409 keeps them open), nor outside the run's school selection (a
-- per-school run covers records of its schools; LEA-level ones, which name no school, wait for an
-- all-schools run). Students are never deleted: their map rows wait for nothing. A partition's post
-- step judges only its own students' errors: the other partitions may not have staged yet.
UPDATE edfi_sync.error_log e
   SET resolved = true, resolved_at = now(), resolved_by_run = %(run_id)s, resolved_reason = 'gone'
 WHERE e.end_year = %(end_year)s AND e.resource = %(resource)s AND NOT e.resolved AND e.run_id <> %(run_id)s
   AND e.action IN ('BUILD', 'POST', 'PUT') AND e.sis_object_key IS NOT NULL
   AND (%(schools)s::text[] IS NULL OR e.school_id = ANY (%(schools)s::text[]))
   AND (%(partitions)s = 1 OR edfi_sync.student_partition(e.student_unique_id, %(partitions)s) = %(partition)s)
   AND NOT EXISTS (SELECT 1 FROM edfi_sync.staged_record s
                    WHERE s.run_id = %(run_id)s AND s.resource = e.resource AND s.sis_object_key = e.sis_object_key)
   AND NOT (%(deletable)s AND EXISTS (SELECT 1 FROM edfi_sync.identity_map m
                                       WHERE m.end_year = e.end_year AND m.resource = e.resource
                                         AND m.sis_object_key = e.sis_object_key))
