-- The steps of one run, in the order they started: counts, and SIS vs ODS vs identity map after
-- each post step (`disagree` as the reconciliation report has it); a partitioned step is one row.
SELECT resource, phase, partitions, status, counts, edfi_sync.records_sent(counts) AS sent,
       edfi_sync.record_errors(counts) AS record_errors, sis_count, ods_count, map_count,
       phase = 'post' AND status = 'done' AND edfi_sync.counts_disagree(sis_count, ods_count, map_count) AS disagree,
       started_at, finished_at
  FROM edfi_sync.resource_step
 WHERE run_id = %(run_id)s::text
 ORDER BY started_at, resource, phase
