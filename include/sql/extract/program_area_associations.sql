-- The records of one program area (%(area)s: title1, lep, migrant, homeless, fram = pos_eligibility,
-- sped = plan) of students with a scoped enrollment in the year, once per district they are scoped in
-- (the program is the district's). The build rule applies the overlap, area and mapping rules.
WITH scoped AS (
    SELECT se.person_id, se.district_id,
           array_agg(DISTINCT se.school_number ORDER BY se.school_number)
               FILTER (WHERE se.school_number IS NOT NULL) AS school_numbers
      FROM edfi_sync.scoped_enrollment(%(end_year)s, %(year_start)s, %(year_end)s) se
     GROUP BY se.person_id, se.district_id
), area AS (
    SELECT 'title1' AS area, title1_id AS record_id, person_id, start_date, end_date, NULL AS eligibility,
           NULL AS plan_type, false AS locked FROM sis.title1 WHERE %(area)s = 'title1'
    UNION ALL SELECT 'lep', lep_id, person_id, start_date, end_date, NULL, NULL, false
                FROM sis.lep WHERE %(area)s = 'lep'
    UNION ALL SELECT 'migrant', migrant_id, person_id, start_date, end_date, NULL, NULL, false
                FROM sis.migrant WHERE %(area)s = 'migrant'
    UNION ALL SELECT 'homeless', homeless_id, person_id, start_date, end_date, NULL, NULL, false
                FROM sis.homeless WHERE %(area)s = 'homeless'
    UNION ALL SELECT 'fram', pos_eligibility_id, person_id, start_date, end_date, eligibility, NULL, false
                FROM sis.pos_eligibility WHERE %(area)s = 'fram'
    UNION ALL SELECT 'sped', plan_id, person_id, start_date, end_date, NULL, plan_type, locked
                FROM sis.plan WHERE %(area)s = 'sped'
)
SELECT a.record_id, a.area, a.start_date, a.end_date, a.eligibility, a.plan_type, a.locked,
       d.number AS district_number, p.state_id, p.first_name, p.last_name, sc.school_numbers
  FROM area a
  JOIN scoped sc ON sc.person_id = a.person_id
  JOIN sis.district d ON d.district_id = sc.district_id
  JOIN sis.person p ON p.person_id = a.person_id
 ORDER BY a.record_id, d.district_id
