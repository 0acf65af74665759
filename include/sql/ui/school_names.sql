-- Names of the schools of a page's rows and summaries (the error log holds Ed-Fi schoolIds).
SELECT DISTINCT ON (number) number, name
  FROM sis.school
 WHERE number = ANY (%(ids)s::text[])
 ORDER BY number, school_id
