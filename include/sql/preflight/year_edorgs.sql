-- The education organizations a school year sends records of: each (not excluded) school with a
-- calendar in the year, with its district; as Ed-Fi ids (school.number, district.number).
SELECT DISTINCT d.number AS lea_id, d.name AS lea_name, s.number AS school_id, s.name AS school_name
  FROM sis.school s
  JOIN sis.district d ON d.district_id = s.district_id
  JOIN sis.calendar c ON c.school_id = s.school_id
 WHERE c.end_year = %(end_year)s AND NOT s.exclude AND NOT c.exclude
 ORDER BY d.number, s.number
