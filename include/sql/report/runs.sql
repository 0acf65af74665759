-- Engine runs, newest first, a page of them or all (limit NULL): the runs page, its CSV and the
-- Error Log's chart. Per run: records sent, record errors, and the resources whose SIS, ODS and
-- identity-map counts disagree after the run's post step (partitions merged).
SELECT r.run_id, r.end_year, r.origin, r.dag_id, r.dag_run_id, r.status, r.params, r.started_at, r.finished_at,
       s.sent, s.record_errors, s.resources, s.disagreements
  FROM edfi_sync.sync_run r
  CROSS JOIN LATERAL (
        SELECT coalesce(sum(edfi_sync.records_sent(rr.counts)), 0) AS sent,
               coalesce(sum(edfi_sync.record_errors(rr.counts)), 0) AS record_errors,
               count(DISTINCT rr.resource) AS resources,
               count(*) FILTER (WHERE rr.phase = 'post' AND rr.status = 'done'
                                  AND edfi_sync.counts_disagree(rr.sis_count, rr.ods_count, rr.map_count))
                   AS disagreements
          FROM edfi_sync.resource_step rr
         WHERE rr.run_id = r.run_id) s
 WHERE (%(school_year)s::integer IS NULL OR r.end_year = %(school_year)s::integer)
   AND (%(origin)s::text IS NULL OR r.origin = %(origin)s::text)
   AND (%(status)s::text IS NULL OR r.status = %(status)s::text)
   AND (%(include_dry_runs)s::boolean OR NOT coalesce((r.params ->> 'dry_run')::boolean, false))
   AND CASE %(paging)s::text
           WHEN 'after' THEN (r.started_at, r.run_id) < (%(key_1)s::timestamptz, %(key_2)s::text)
           WHEN 'before' THEN (r.started_at, r.run_id) > (%(key_1)s::timestamptz, %(key_2)s::text)
           ELSE true END
 ORDER BY CASE WHEN %(paging)s::text = 'before' THEN NULL ELSE r.started_at END DESC,
          CASE WHEN %(paging)s::text = 'before' THEN NULL ELSE r.run_id END DESC,
          r.started_at, r.run_id
 LIMIT %(limit)s
