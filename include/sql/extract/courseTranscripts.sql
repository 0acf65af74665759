-- The students of studentAcademicRecords.sql (seed 004): courseTranscripts come from their transcript rows.
SELECT person_id, state_id, first_name, last_name, school_numbers, enrollments, graduations, transcripts, cum_gpa
  FROM edfi_sync.academic_record_student(%(end_year)s, %(year_start)s, %(year_end)s, %(partition)s,
                                          %(partitions)s)
 ORDER BY person_id
