-- The Error Log's summaries of its filtered set: the total, and the top 20 resources, error
-- codes, schools and students. The filtered rows are read once, into their few summarised columns.
WITH filtered AS MATERIALIZED (
    SELECT f.resource, f.error_code, f.school_id, f.student_unique_id, f.student_name FROM ({filter}) f
)
SELECT 'total' AS dimension, NULL AS value, NULL AS label, count(*) AS n FROM filtered
UNION ALL
(SELECT 'resource', resource, NULL, count(*) FROM filtered GROUP BY resource ORDER BY 4 DESC, 2 LIMIT 20)
UNION ALL
(SELECT 'error_code', error_code, NULL, count(*) FROM filtered GROUP BY error_code ORDER BY 4 DESC, 2 LIMIT 20)
UNION ALL
(SELECT 'school', school_id, NULL, count(*) FROM filtered WHERE school_id IS NOT NULL
  GROUP BY school_id ORDER BY 4 DESC, 2 LIMIT 20)
UNION ALL
(SELECT 'student', student_unique_id, max(student_name), count(*) FROM filtered WHERE student_unique_id IS NOT NULL
  GROUP BY student_unique_id ORDER BY 4 DESC, 2 LIMIT 20)
