-- A group of answers at once (%(rows)s: a JSON list, one object per record sent); one statement,
-- not one per record, so recording keeps up with sending. The last answer for a key wins.
INSERT INTO edfi_sync.identity_map AS m (end_year, resource, natural_key_hash, natural_key, sis_object_type,
                                         sis_object_key, edfi_id, payload_hash, student_unique_id, school_ids,
                                         last_status, last_run_id, replace_hash)
SELECT DISTINCT ON (r.natural_key_hash)
       %(end_year)s, %(resource)s, r.natural_key_hash, r.natural_key, r.sis_object_type, r.sis_object_key,
       r.edfi_id, r.payload_hash, r.student_unique_id, coalesce(r.school_ids, '{}'), r.status, %(run_id)s,
       r.replace_hash
  FROM jsonb_array_elements(%(rows)s) WITH ORDINALITY AS a(answer, n),
       jsonb_to_record(a.answer) AS r(natural_key_hash text, natural_key jsonb, sis_object_type text, sis_object_key text, edfi_id text,
            payload_hash text, student_unique_id text, school_ids text[], status integer, replace_hash text)
 ORDER BY r.natural_key_hash, a.n DESC
ON CONFLICT (end_year, resource, natural_key_hash) DO UPDATE
   SET natural_key = excluded.natural_key, sis_object_key = excluded.sis_object_key,
       edfi_id = coalesce(excluded.edfi_id, m.edfi_id), payload_hash = excluded.payload_hash,
       student_unique_id = excluded.student_unique_id, school_ids = excluded.school_ids,
       last_sent_at = now(), last_status = excluded.last_status, last_run_id = excluded.last_run_id,
       replace_hash = excluded.replace_hash
