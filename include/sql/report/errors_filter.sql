-- The error-log rows a report asks for (every filter optional; the Error Log page, its CSV and
-- `edfi-sync report errors` read through this). `state` is SPEC §6.1's lifecycle; `sort_key`
-- and `tie` order every sort the same way: open problems first, then the sort, then newest first.
SELECT e.*, edfi_sync.error_state(e.resolved, e.resolved_reason) AS state,
       (CASE edfi_sync.error_state(e.resolved, e.resolved_reason) WHEN 'open' THEN '0' WHEN 'resolved' THEN '1'
             ELSE '2' END
        || chr(1) || CASE %(sort)s::text
            WHEN 'first_seen' THEN lpad((extract(epoch FROM e.created_at) * 1000000)::bigint::text, 16, '0')
            WHEN 'occurrences' THEN lpad((2147483647 - e.occurrences)::text, 10, '0')
            WHEN 'resource' THEN lower(e.resource)
            WHEN 'student' THEN coalesce(lower(e.student_name), '~')
            WHEN 'school' THEN coalesce(e.school_id, '~')
            ELSE '' END
        || chr(1) || lpad((9007199254740991 - (extract(epoch FROM e.last_seen_at) * 1000000)::bigint)::text, 16, '0')
       ) COLLATE "C" AS sort_key,
       CASE WHEN %(sort)s::text = 'first_seen' THEN e.error_id ELSE -e.error_id END AS tie
  FROM edfi_sync.error_log e
 WHERE (%(school_year)s::integer IS NULL OR e.end_year = %(school_year)s::integer)
   AND (%(resource)s::text IS NULL OR e.resource = %(resource)s::text)
   AND (%(error_code)s::text IS NULL OR e.error_code = %(error_code)s::text)
   AND (%(error_class)s::text IS NULL OR e.error_class = %(error_class)s::text)
   AND (%(school)s::text IS NULL OR e.school_id = %(school)s::text)
   AND (%(run_id)s::text IS NULL OR e.run_id = %(run_id)s::text)
   AND (%(q)s::text IS NULL OR e.student_unique_id = %(q)s::text OR e.sis_object_key = %(q)s::text
        OR (cardinality(%(name_patterns)s::text[]) > 0 AND e.student_name ILIKE ALL (%(name_patterns)s::text[])))
   -- edfi_sync.error_state's lifecycle, spelt on the columns so the planner sees how many rows match
   AND CASE %(status)s::text WHEN 'open' THEN NOT e.resolved
                             WHEN 'resolved' THEN e.resolved AND e.resolved_reason <> 'archived'
                             WHEN 'archived' THEN e.resolved AND e.resolved_reason = 'archived'
                             ELSE true END
