-- The Error Log's summaries of its filtered set: the total, and the top 20 resources, error
-- codes, schools and students (one pass over the rows, whatever their number).
WITH filtered AS ({filter}),
grouped AS (
    SELECT GROUPING(resource, error_code, school_id, student_unique_id) AS grouping_id,
           resource, error_code, school_id, student_unique_id, max(student_name) AS student_name,
           count(*) AS n
      FROM filtered
     GROUP BY GROUPING SETS ((resource), (error_code), (school_id), (student_unique_id), ())
), ranked AS (
    SELECT CASE grouping_id WHEN 7 THEN 'resource' WHEN 11 THEN 'error_code' WHEN 13 THEN 'school'
                            WHEN 14 THEN 'student' ELSE 'total' END AS dimension,
           coalesce(resource, error_code, school_id, student_unique_id) AS value,
           CASE WHEN grouping_id = 14 THEN student_name END AS label, n
      FROM grouped
)
SELECT dimension, value, label, n
  FROM (SELECT r.*, row_number() OVER (PARTITION BY dimension ORDER BY n DESC, value) AS rank
          FROM ranked r
         WHERE value IS NOT NULL OR dimension = 'total') top
 WHERE rank <= 20
 ORDER BY dimension, rank
