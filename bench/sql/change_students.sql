-- One student in %(every)s changes: a new first name (a students PUT) and new grades on his
-- transcripts (courseTranscripts PUTs). Returns the persons changed.
WITH changed AS (
    UPDATE sis.person SET first_name = first_name || 'x' WHERE person_id %% %(every)s = 0 RETURNING person_id
), grades AS (
    UPDATE sis.transcript_course t SET grade = CASE WHEN t.grade = 'A' THEN 'B' ELSE 'A' END
      FROM changed c WHERE t.person_id = c.person_id
)
SELECT person_id FROM changed
