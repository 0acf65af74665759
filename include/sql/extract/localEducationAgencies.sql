-- Districts with at least one school that has a calendar in the scope year.
SELECT d.district_id, d.name, d.number
  FROM sis.district d
 WHERE EXISTS (SELECT 1
                 FROM sis.school s
                 JOIN sis.calendar c ON c.school_id = s.school_id
                WHERE s.district_id = d.district_id AND c.end_year = %(end_year)s)
 ORDER BY d.district_id
