-- Seed 001: per district, every distinct program record (CTE participation or flag assignment by
-- program_id, or an area by name) of students with a scoped enrollment in that district, with its
-- period. The build rule applies the overlap, area and mapping rules and deduplicates.
WITH scoped AS (
    SELECT DISTINCT se.person_id, se.district_id
      FROM edfi_sync.scoped_enrollment(%(end_year)s, %(year_start)s, %(year_end)s) se
), used AS (
    SELECT sc.district_id, p.kind, p.program_id::text AS source, p.name, pp.start_date, pp.end_date,
           NULL::text AS eligibility, NULL::text AS plan_type, false AS locked
      FROM sis.program_participation pp
      JOIN sis.program p ON p.program_id = pp.program_id AND p.kind IN ('cte', 'flag')
      JOIN scoped sc ON sc.person_id = pp.person_id AND sc.district_id = p.district_id
    UNION
    SELECT sc.district_id, a.area, a.area, NULL, a.start_date, a.end_date, a.eligibility, a.plan_type, a.locked
      FROM (SELECT 'title1' AS area, person_id, start_date, end_date, NULL AS eligibility, NULL AS plan_type,
                   false AS locked FROM sis.title1
            UNION ALL SELECT 'lep', person_id, start_date, end_date, NULL, NULL, false FROM sis.lep
            UNION ALL SELECT 'migrant', person_id, start_date, end_date, NULL, NULL, false FROM sis.migrant
            UNION ALL SELECT 'homeless', person_id, start_date, end_date, NULL, NULL, false FROM sis.homeless
            UNION ALL SELECT 'fram', person_id, start_date, end_date, eligibility, NULL, false FROM sis.pos_eligibility
            UNION ALL SELECT 'sped', person_id, start_date, end_date, NULL, plan_type, locked FROM sis.plan) a
      JOIN scoped sc ON sc.person_id = a.person_id
)
SELECT d.district_id, d.number AS district_number,
       jsonb_agg(jsonb_build_object('kind', u.kind, 'source', u.source, 'name', u.name,
                                    'start_date', u.start_date, 'end_date', u.end_date,
                                    'eligibility', u.eligibility, 'plan_type', u.plan_type, 'locked', u.locked)
                 ORDER BY u.source, u.start_date, u.end_date) AS records
  FROM used u
  JOIN sis.district d ON d.district_id = u.district_id
 GROUP BY d.district_id, d.number
 ORDER BY d.district_id
