-- The audit trail (the Audit page and `edfi-sync report audit`): who did what, when, with which
-- parameters, the DAG run it started and how it ended. An action done at once says how itself
-- (outcome, result); a DAG run's end is read from what the run recorded: the engine runs of an
-- edfi_sync DAG run (the worst status; what they sent, or would send), the plan of edfi_delete.
SELECT a.audit_id, a.at, a.actor, a.origin, a.action, a.school_year, a.params, a.dag_id, a.dag_run_id,
       coalesce(a.outcome, runs.outcome, plan.outcome) AS outcome,
       coalesce(a.result, runs.result, plan.summary) AS result,
       coalesce(plan.plan_id, a.params ->> 'plan') AS plan_id
  FROM edfi_sync.audit_log a
  LEFT JOIN LATERAL (
        SELECT CASE WHEN bool_or(r.status = 'running') THEN 'running'
                    WHEN bool_or(r.status IN ('failed', 'abandoned')) THEN 'failed'
                    WHEN bool_or(r.status = 'record_errors') THEN 'record_errors'
                    ELSE 'success' END AS outcome,
               jsonb_build_object('engine_runs', jsonb_agg(r.run_id ORDER BY r.run_id), 'sent', sum(c.sent),
                                  'would_send', sum(c.would_send), 'record_errors', sum(c.record_errors)) AS result
          FROM edfi_sync.sync_run r
          LEFT JOIN LATERAL (
                SELECT sum(edfi_sync.records_sent(rr.counts)) AS sent,
                       sum(edfi_sync.record_errors(rr.counts)) AS record_errors,
                       sum((SELECT coalesce(sum(value::bigint), 0) FROM jsonb_each_text(rr.counts)
                             WHERE key LIKE '%%would\_%%')) AS would_send
                  FROM edfi_sync.resource_run rr WHERE rr.run_id = r.run_id) c ON true
         WHERE a.dag_id = 'edfi_sync' AND r.dag_id = a.dag_id AND r.dag_run_id = a.dag_run_id
        HAVING count(*) > 0) runs ON true
  LEFT JOIN LATERAL (
        SELECT p.plan_id, p.summary,
               CASE WHEN a.action = 'delete_preview' THEN 'previewed' ELSE p.status END AS outcome
          FROM edfi_sync.delete_plan p
         WHERE a.dag_id = 'edfi_delete'
           AND p.plan_id = CASE a.action WHEN 'delete_preview' THEN a.dag_run_id ELSE a.params ->> 'plan' END
           AND (a.action = 'delete_preview' OR p.executed_by = a.dag_run_id)) plan ON true
 WHERE (%(audit_id)s::bigint IS NULL OR a.audit_id = %(audit_id)s::bigint)
   AND (%(school_year)s::integer IS NULL OR a.school_year = %(school_year)s::integer)
   AND (%(action)s::text IS NULL OR a.action = %(action)s::text)
 ORDER BY a.at DESC, a.audit_id DESC
 LIMIT %(limit)s
