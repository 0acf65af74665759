-- The Ed-Fi Identity Mapping Report, a page of it or all of it (limit NULL): the page, its CSV
-- download and `edfi-sync report identity-map`. Keyset paging in the order of the index
-- identity_map_object_key; backward pages come in reverse.
WITH filtered AS ({filter})
SELECT f.resource, f.sis_object_type, f.sis_object_key, f.natural_key, f.edfi_id, f.student_unique_id,
       f.school_ids, f.payload_hash, f.first_sent_at, f.last_sent_at, f.last_status, f.last_run_id,
       f.natural_key_hash
  FROM filtered f
 WHERE CASE %(paging)s::text
           WHEN 'after' THEN (f.resource, f.sis_object_key, f.natural_key_hash) > (%(key_1)s::text, %(key_2)s::text, %(key_3)s::text)
           WHEN 'before' THEN (f.resource, f.sis_object_key, f.natural_key_hash) < (%(key_1)s::text, %(key_2)s::text, %(key_3)s::text)
           ELSE true END
 ORDER BY CASE WHEN %(paging)s::text = 'before' THEN NULL ELSE f.resource END,
          CASE WHEN %(paging)s::text = 'before' THEN NULL ELSE f.sis_object_key END,
          CASE WHEN %(paging)s::text = 'before' THEN NULL ELSE f.natural_key_hash END,
          f.resource DESC, f.sis_object_key DESC, f.natural_key_hash DESC
 LIMIT %(limit)s
