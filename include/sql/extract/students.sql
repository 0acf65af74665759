-- Persons with at least one scoped enrollment in the year, and the schools of those enrollments.
SELECT p.person_id, p.state_id, p.first_name, p.middle_name, p.last_name, p.birth_date,
       array_agg(DISTINCT se.school_number ORDER BY se.school_number)
           FILTER (WHERE se.school_number IS NOT NULL) AS school_numbers
  FROM edfi_sync.scoped_enrollment(%(end_year)s, %(year_start)s, %(year_end)s, %(partition)s, %(partitions)s) se
  JOIN sis.person p ON p.person_id = se.person_id
 GROUP BY p.person_id
 ORDER BY p.person_id
