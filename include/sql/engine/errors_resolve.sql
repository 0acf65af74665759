-- A later success for the same SIS object resolves its earlier errors, saying how (sent, deleted), once
-- the object is settled in this run (edfi_sync.sis_object_settled: a student's records of other terms
-- succeeding does not close the error of the one that still fails; nor does anything close an error
-- while a map row of the object still waits for its DELETE, when the error or the success is a DELETE).
-- Errors this run logged stay open. %(rows)s: a JSON list of {sis_object_key, reason} for a group of
-- answers.
UPDATE edfi_sync.error_log e
   SET resolved = true, resolved_at = now(), resolved_by_run = %(run_id)s, resolved_reason = r.reason
  FROM (SELECT DISTINCT ON (r.sis_object_key) r.sis_object_key, r.reason
          FROM jsonb_array_elements(%(rows)s) WITH ORDINALITY AS a(answer, n),
       jsonb_to_record(a.answer) AS r(sis_object_key text, reason text)
         ORDER BY r.sis_object_key, a.n DESC) r
 WHERE e.end_year = %(end_year)s AND e.resource = %(resource)s AND e.sis_object_key = r.sis_object_key
   AND NOT e.resolved AND e.run_id <> %(run_id)s
   AND edfi_sync.sis_object_settled(%(run_id)s, e.end_year, e.resource, e.sis_object_key,
                                    e.action = 'DELETE' OR r.reason = 'deleted')
