-- Per resource, the latest post step: what the SIS yields vs the ODS vs the identity map. A
-- partitioned step counts once all its partitions are done (edfi_sync.resource_step merges them).
-- The latest steps are found first, without their counts (a subquery per step): then only theirs.
WITH latest AS (
    SELECT DISTINCT ON (resource) resource, run_id, partitions
      FROM edfi_sync.resource_step
     WHERE end_year = %(end_year)s AND phase = 'post' AND status = 'done'
       AND (%(resource)s::text IS NULL OR resource = %(resource)s)
     ORDER BY resource, finished_at DESC
)
SELECT s.resource, s.run_id, s.sis_count, s.ods_count, s.map_count,
       edfi_sync.counts_disagree(s.sis_count, s.ods_count, s.map_count) AS disagree, s.counts, s.finished_at
  FROM latest l
 CROSS JOIN LATERAL (SELECT * FROM edfi_sync.resource_step s
                      WHERE s.run_id = l.run_id AND s.resource = l.resource AND s.phase = 'post'
                        AND s.partitions = l.partitions) s
 ORDER BY s.resource
