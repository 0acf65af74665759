-- The error log, a page of it or all of it (limit NULL): the Error Log page, its CSV download and
-- `edfi-sync report errors`. Keyset paging on (sort_key, tie); backward pages come in reverse.
-- The page is chosen on the narrow columns of error_log_filters first, then its rows are read.
WITH filtered AS ({filter}),
page AS (
    SELECT f.error_id, f.state, f.sort_key, f.tie
      FROM filtered f
     WHERE CASE %(paging)s::text
               WHEN 'after' THEN (f.sort_key, f.tie) > (%(key_1)s::text COLLATE "C", %(key_2)s::bigint)
               WHEN 'before' THEN (f.sort_key, f.tie) < (%(key_1)s::text COLLATE "C", %(key_2)s::bigint)
               ELSE true END
     ORDER BY CASE WHEN %(paging)s::text = 'before' THEN NULL ELSE f.sort_key END,
              CASE WHEN %(paging)s::text = 'before' THEN NULL ELSE f.tie END,
              f.sort_key DESC, f.tie DESC
     LIMIT %(limit)s
)
SELECT e.error_id, e.end_year, e.resource, e.action, e.status, e.message, e.validation_errors, e.cause, e.fix,
       e.error_class, e.error_code, e.sis_object_key, e.student_unique_id, e.student_name, e.school_id,
       e.run_id, e.dag_id, r.dag_run_id, e.task_id, p.state, e.resolved, e.resolved_reason, e.resolved_at,
       e.resolved_by_run, e.occurrences, e.created_at, e.last_seen_at, e.request_body, p.sort_key, p.tie
  FROM page p
  JOIN edfi_sync.error_log e ON e.error_id = p.error_id
  LEFT JOIN edfi_sync.sync_run r ON r.run_id = e.run_id
 ORDER BY CASE WHEN %(paging)s::text = 'before' THEN NULL ELSE p.sort_key END,
          CASE WHEN %(paging)s::text = 'before' THEN NULL ELSE p.tie END,
          p.sort_key DESC, p.tie DESC
