-- Non-excluded schools with a calendar in the scope year, with the grades of their scoped enrollments.
SELECT s.school_id, s.name, s.number, d.number AS district_number,
       coalesce((SELECT array_agg(DISTINCT se.grade ORDER BY se.grade)
                   FROM edfi_sync.scoped_enrollment(%(end_year)s, %(year_start)s, %(year_end)s) se
                  WHERE se.school_id = s.school_id AND se.grade IS NOT NULL), '{}') AS grades
  FROM sis.school s
  LEFT JOIN sis.district d ON d.district_id = s.district_id
 WHERE NOT s.exclude
   AND EXISTS (SELECT 1 FROM sis.calendar c WHERE c.school_id = s.school_id AND c.end_year = %(end_year)s)
 ORDER BY s.school_id
