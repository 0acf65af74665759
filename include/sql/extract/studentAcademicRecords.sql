-- One row per student of the year who may qualify for academic records (seed 004): his enrollments,
-- graduation rows, transcript rows (end_year <= Y) and cumulative GPA; the rules decide the rest.
SELECT person_id, state_id, first_name, last_name, school_numbers, enrollments, graduations, transcripts, cum_gpa
  FROM edfi_sync.academic_record_student(%(end_year)s, %(year_start)s, %(year_end)s, %(partition)s,
                                          %(partitions)s)
 ORDER BY person_id
