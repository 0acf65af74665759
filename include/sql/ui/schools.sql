-- The schools a resync may be limited to: those with an Ed-Fi schoolId, by name.
SELECT DISTINCT ON (number) number, name
  FROM sis.school
 WHERE number IS NOT NULL AND NOT exclude
 ORDER BY number, school_id
