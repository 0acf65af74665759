-- Per resource, the latest post step: what the SIS yields vs the ODS vs the identity map.
SELECT DISTINCT ON (resource) resource, run_id, sis_count, ods_count, map_count,
       edfi_sync.counts_disagree(sis_count, ods_count, map_count) AS disagree, counts, finished_at
  FROM edfi_sync.resource_run
 WHERE end_year = %(end_year)s AND phase = 'post' AND status = 'done'
   AND (%(resource)s::text IS NULL OR resource = %(resource)s)
 ORDER BY resource, finished_at DESC
