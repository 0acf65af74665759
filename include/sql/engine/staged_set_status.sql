-- The staged statuses of a group of answers (%(rows)s: a JSON list of {seq, status, error_code,
-- error_message}); the last answer for a record wins.
UPDATE edfi_sync.staged_record s
   SET status = r.status, error_code = r.error_code, error_message = r.error_message
  FROM (SELECT DISTINCT ON (r.seq) r.seq, r.status, r.error_code, r.error_message
          FROM jsonb_array_elements(%(rows)s) WITH ORDINALITY AS a(answer, n),
       jsonb_to_record(a.answer) AS r(seq bigint, status text, error_code text, error_message text)
         ORDER BY r.seq, a.n DESC) r
 WHERE s.run_id = %(run_id)s AND s.resource = %(resource)s AND s.seq = r.seq
