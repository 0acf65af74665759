-- The staged statuses of a group of answers (%(rows)s: a JSON list of {partition, seq, status,
-- error_code, error_message}; an update step's group spans partitions); the last answer for a record wins.
UPDATE edfi_sync.staged_record s
   SET status = r.status, error_code = r.error_code, error_message = r.error_message
  FROM (SELECT DISTINCT ON (r.partition, r.seq) r.partition, r.seq, r.status, r.error_code, r.error_message
          FROM jsonb_array_elements(%(rows)s) WITH ORDINALITY AS a(answer, n),
       jsonb_to_record(a.answer) AS r(partition integer, seq bigint, status text, error_code text, error_message text)
         ORDER BY r.partition, r.seq, a.n DESC) r
 WHERE s.run_id = %(run_id)s AND s.resource = %(resource)s AND s.partition = r.partition AND s.seq = r.seq
