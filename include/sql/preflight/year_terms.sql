-- The SIS term values a school year uses, each with the schools using it: its calendars' term
-- names and the Ed-Fi term overrides of its courses, sections and transcripts. All of them go
-- through the year's (sessions, term) mappings.
SELECT value, source, count(DISTINCT school_id) AS schools
FROM (
    SELECT t.name AS value, 'term' AS source, c.school_id
      FROM sis.term t
      JOIN sis.term_schedule ts ON ts.term_schedule_id = t.term_schedule_id
      JOIN sis.calendar c ON c.calendar_id = ts.calendar_id
     WHERE c.end_year = %(end_year)s AND NOT c.exclude
    UNION ALL
    SELECT co.edfi_term_override, 'course override', c.school_id
      FROM sis.course co JOIN sis.calendar c ON c.calendar_id = co.calendar_id
     WHERE c.end_year = %(end_year)s
    UNION ALL
    SELECT se.edfi_term_override, 'section override', c.school_id
      FROM sis.section se
      JOIN sis.course co ON co.course_id = se.course_id
      JOIN sis.calendar c ON c.calendar_id = co.calendar_id
     WHERE c.end_year = %(end_year)s
    UNION ALL
    SELECT tc.edfi_term_override, 'transcript override', tc.school_id
      FROM sis.transcript_course tc
     WHERE tc.end_year = %(end_year)s
) used
WHERE value IS NOT NULL
GROUP BY value, source
ORDER BY value, source
