-- One row per scoped enrollment of the year.
SELECT se.enrollment_id, se.school_number, se.grade, se.service_type, se.start_date, se.end_date,
       se.end_status, p.state_id, p.first_name, p.last_name
  FROM edfi_sync.scoped_enrollment(%(end_year)s, %(year_start)s, %(year_end)s, %(partition)s, %(partitions)s) se
  JOIN sis.person p ON p.person_id = se.person_id
 ORDER BY se.enrollment_id
