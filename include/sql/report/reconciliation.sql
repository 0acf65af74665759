-- Per resource, the latest post step: what the SIS yields vs the ODS vs the identity map. A
-- partitioned step counts once all its partitions are done: their SIS counts and action counts add
-- up, the map count is the last one's (taken when the step ended), the ODS count is taken only by a
-- step run whole.
WITH done AS (
    SELECT * FROM edfi_sync.resource_run
     WHERE end_year = %(end_year)s AND phase = 'post' AND status = 'done'
       AND (%(resource)s::text IS NULL OR resource = %(resource)s)
), step AS (
    SELECT resource, run_id, partitions, sum(sis_count)::integer AS sis_count, max(ods_count) AS ods_count,
           (array_agg(map_count ORDER BY finished_at DESC))[1] AS map_count, max(finished_at) AS finished_at
      FROM done
     GROUP BY resource, run_id, partitions
    HAVING count(*) = partitions
), merged AS (
    SELECT resource, run_id, partitions, jsonb_object_agg(key, total) AS counts
      FROM (SELECT d.resource, d.run_id, d.partitions, c.key, sum(c.value::numeric) AS total
              FROM done d, jsonb_each(d.counts) c
             GROUP BY d.resource, d.run_id, d.partitions, c.key) per_key
     GROUP BY resource, run_id, partitions
)
SELECT DISTINCT ON (s.resource) s.resource, s.run_id, s.sis_count, s.ods_count, s.map_count,
       edfi_sync.counts_disagree(s.sis_count, s.ods_count, s.map_count) AS disagree,
       coalesce(m.counts, '{}'::jsonb) AS counts, s.finished_at
  FROM step s
  LEFT JOIN merged m USING (resource, run_id, partitions)
 ORDER BY s.resource, s.finished_at DESC
