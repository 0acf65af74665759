-- Participations in programs of one kind (%(kind)s: 'cte' for seed 000's CTE associations, 'flag' for
-- flag assignments) of students with a scoped enrollment (not no-show, calendar, school or state
-- excluded; overlapping the year) in the program's district, with their certifications. The build
-- rule applies the overlap (NULL-date defaults) and mapping rules.
WITH scoped AS (
    SELECT se.person_id, se.district_id,
           array_agg(DISTINCT se.school_number ORDER BY se.school_number)
               FILTER (WHERE se.school_number IS NOT NULL) AS school_numbers
      FROM edfi_sync.scoped_enrollment(%(end_year)s, %(year_start)s, %(year_end)s) se
     GROUP BY se.person_id, se.district_id
)
SELECT pp.participation_id, pp.program_id, pr.kind, pr.name AS program_name, pp.start_date, pp.end_date,
       pp.student_status, pp.non_traditional, pr.state_code, d.number AS district_number, p.state_id,
       p.first_name, p.last_name, sc.school_numbers,
       coalesce((SELECT jsonb_agg(jsonb_build_object('certification_id', c.certification_id,
                                                     'attempted', c.attempted, 'passed', c.passed,
                                                     'certification_date', c.certification_date))
                   FROM sis.program_participation_certification c
                  WHERE c.participation_id = pp.participation_id), '[]') AS certifications
  FROM sis.program_participation pp
  JOIN sis.program pr ON pr.program_id = pp.program_id AND pr.kind = %(kind)s
  JOIN sis.district d ON d.district_id = pr.district_id
  JOIN scoped sc ON sc.person_id = pp.person_id AND sc.district_id = pr.district_id
  JOIN sis.person p ON p.person_id = pp.person_id
 ORDER BY pp.participation_id
