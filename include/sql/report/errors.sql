-- The error log, a page of it or all of it (limit NULL): the Error Log page, its CSV download and
-- `edfi-sync report errors`. Keyset paging on (sort_key, tie); backward pages come in reverse.
WITH filtered AS ({filter})
SELECT f.error_id, f.end_year, f.resource, f.action, f.status, f.message, f.validation_errors, f.cause, f.fix,
       f.error_class, f.error_code, f.sis_object_key, f.student_unique_id, f.student_name, f.school_id,
       f.run_id, f.dag_id, r.dag_run_id, f.task_id, f.state, f.resolved, f.resolved_reason, f.resolved_at,
       f.resolved_by_run, f.occurrences, f.created_at, f.last_seen_at, f.request_body, f.sort_key, f.tie
  FROM filtered f
  LEFT JOIN edfi_sync.sync_run r ON r.run_id = f.run_id
 WHERE CASE %(paging)s::text WHEN 'after' THEN (f.sort_key, f.tie) > (%(key_1)s::text COLLATE "C", %(key_2)s::bigint)
                       WHEN 'before' THEN (f.sort_key, f.tie) < (%(key_1)s::text COLLATE "C", %(key_2)s::bigint)
                       ELSE true END
 ORDER BY CASE WHEN %(paging)s::text = 'before' THEN NULL ELSE f.sort_key END,
          CASE WHEN %(paging)s::text = 'before' THEN NULL ELSE f.tie END,
          f.sort_key DESC, f.tie DESC
 LIMIT %(limit)s
