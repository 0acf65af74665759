-- The records of one program source (%(source)s): 'cte' participations (seed 000), 'flag' assignments,
-- or an area (title1, lep, migrant, homeless, fram = pos_eligibility, sped = plan), of students with a
-- scoped enrollment (not no-show, calendar, school or state excluded; overlapping the year) in the
-- program's district (an area record's program is that of each district the student is scoped in).
-- The build rules apply the overlap (NULL-date defaults), area and mapping rules.
WITH scoped AS (
    SELECT se.person_id, se.district_id,
           array_agg(DISTINCT se.school_number ORDER BY se.school_number)
               FILTER (WHERE se.school_number IS NOT NULL) AS school_numbers
      FROM edfi_sync.scoped_enrollment(%(end_year)s, %(year_start)s, %(year_end)s, %(partition)s, %(partitions)s) se
     GROUP BY se.person_id, se.district_id
), record AS (
    SELECT pp.participation_id AS record_id, pp.person_id, pr.district_id, pp.program_id, pr.name AS program_name,
           pp.start_date, pp.end_date, pp.student_status, pp.non_traditional, pr.state_code,
           NULL AS eligibility, NULL AS plan_type, false AS locked
      FROM sis.program_participation pp
      JOIN sis.program pr ON pr.program_id = pp.program_id AND pr.kind = %(source)s
    UNION ALL SELECT title1_id, person_id, NULL, NULL, NULL, start_date, end_date, NULL, NULL, NULL, NULL, NULL, false
                FROM sis.title1 WHERE %(source)s = 'title1'
    UNION ALL SELECT lep_id, person_id, NULL, NULL, NULL, start_date, end_date, NULL, NULL, NULL, NULL, NULL, false
                FROM sis.lep WHERE %(source)s = 'lep'
    UNION ALL SELECT migrant_id, person_id, NULL, NULL, NULL, start_date, end_date, NULL, NULL, NULL, NULL, NULL, false
                FROM sis.migrant WHERE %(source)s = 'migrant'
    UNION ALL SELECT homeless_id, person_id, NULL, NULL, NULL, start_date, end_date, NULL, NULL, NULL, NULL, NULL, false
                FROM sis.homeless WHERE %(source)s = 'homeless'
    UNION ALL SELECT pos_eligibility_id, person_id, NULL, NULL, NULL, start_date, end_date, NULL, NULL, NULL,
                     eligibility, NULL, false
                FROM sis.pos_eligibility WHERE %(source)s = 'fram'
    UNION ALL SELECT plan_id, person_id, NULL, NULL, NULL, start_date, end_date, NULL, NULL, NULL, NULL, plan_type, locked
                FROM sis.plan WHERE %(source)s = 'sped'
)
SELECT r.record_id, r.program_id, r.program_name, r.start_date, r.end_date, r.student_status, r.non_traditional,
       r.state_code, r.eligibility, r.plan_type, r.locked, d.number AS district_number, p.state_id, p.first_name,
       p.last_name, sc.school_numbers,
       CASE WHEN %(source)s = 'cte' THEN
           coalesce((SELECT jsonb_agg(jsonb_build_object('certification_id', c.certification_id,
                                                         'attempted', c.attempted, 'passed', c.passed,
                                                         'certification_date', c.certification_date))
                       FROM sis.program_participation_certification c
                      WHERE c.participation_id = r.record_id), '[]') END AS certifications
  FROM record r
  JOIN scoped sc ON sc.person_id = r.person_id AND (r.district_id IS NULL OR sc.district_id = r.district_id)
  JOIN sis.district d ON d.district_id = sc.district_id
  JOIN sis.person p ON p.person_id = r.person_id
 ORDER BY r.record_id, d.district_id
