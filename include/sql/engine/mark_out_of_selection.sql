-- A partial run leaves the records it does not select as they are (neither sent nor deleted), staged
-- all the same (SPEC §6.1: every partial stage keeps the whole).
-- Schools: records of other schools; records that relate to no school (LEA level) may still be posted.
-- Records (retry): every record but the SIS objects named for this resource and the children of a
-- selected record whose key is new to the ODS (mark_cascades.sql), whose keys embed it; whatever
-- their status, so the delete step can tell the selection by it.
UPDATE edfi_sync.staged_record s
   SET status = 'out_of_selection'
 WHERE s.run_id = %(run_id)s AND s.resource = %(resource)s AND s.partition = %(partition)s
   AND ((s.status IN ('staged', 'unchanged') AND %(schools)s::text[] IS NOT NULL
         AND s.school_ids <> '{}' AND NOT s.school_ids && %(schools)s::text[])
        OR (%(selective)s AND s.status IN ('staged', 'unchanged', 'duplicate')
            AND NOT (s.sis_object_key = ANY (%(record_keys)s::text[])
                     OR s.parent_keys && (SELECT coalesce(array_agg(p.resource || ':' || p.natural_key_hash), '{}')
                                            FROM edfi_sync.staged_record p
                                           WHERE p.run_id = s.run_id AND p.cascades))))
