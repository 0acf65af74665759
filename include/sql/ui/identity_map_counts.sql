-- Rows per resource of the Identity Mapping Report's year and search (its resource filter aside:
-- each count is a link to that resource).
WITH filtered AS ({filter})
SELECT resource, count(*) AS n FROM filtered GROUP BY resource ORDER BY resource
