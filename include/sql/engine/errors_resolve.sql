-- A later success for the same SIS object resolves its earlier errors, saying how (sent, deleted);
-- not those this run logged (one SIS object may make several records: a student's records of other
-- terms succeed while one of his transcripts still fails). %(rows)s: a JSON list of
-- {sis_object_key, reason} for a group of answers.
UPDATE edfi_sync.error_log e
   SET resolved = true, resolved_at = now(), resolved_by_run = %(run_id)s, resolved_reason = r.reason
  FROM (SELECT DISTINCT ON (r.sis_object_key) r.sis_object_key, r.reason
          FROM jsonb_array_elements(%(rows)s) WITH ORDINALITY AS a(answer, n),
       jsonb_to_record(a.answer) AS r(sis_object_key text, reason text)
         ORDER BY r.sis_object_key, a.n DESC) r
 WHERE e.end_year = %(end_year)s AND e.resource = %(resource)s AND e.sis_object_key = r.sis_object_key
   AND NOT e.resolved AND e.run_id <> %(run_id)s
