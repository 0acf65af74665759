-- Names of the students of a page's rows (the identity map holds studentUniqueIds only).
SELECT DISTINCT ON (p.state_id) p.state_id, concat_ws(' ', p.first_name, p.last_name) AS name
  FROM sis.person p
 WHERE p.state_id = ANY (%(ids)s::text[])
 ORDER BY p.state_id, p.person_id
