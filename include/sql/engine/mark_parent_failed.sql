-- Children whose parent failed (or was skipped) earlier in this run are not sent; nor are children
-- of a parent this run did not stage and the identity map has never seen (a partial run before
-- its parents were ever sent): both would only earn a 400 storm. Parents of any partition count (the
-- parent resource posted whole before this one started).
WITH failed AS (
    SELECT p.resource || ':' || p.natural_key_hash AS parent_key,
           -- A skipped parent carries its own parent's reason: the chain leads to the root cause.
           p.resource || ' ' || p.sis_object_key || ' (' || coalesce(p.error_code, p.status)
               || coalesce(': ' || p.error_message, '') || ')' AS reason
      FROM edfi_sync.staged_record p
     WHERE p.run_id = %(run_id)s AND p.status IN ('failed', 'skipped', 'build_failed')
       AND p.natural_key_hash IS NOT NULL
), staged_resources AS (
    SELECT DISTINCT resource FROM edfi_sync.staged_record WHERE run_id = %(run_id)s AND resource <> %(resource)s
), unsent AS (
    SELECT s.seq, string_agg(split_part(pk, ':', 1) || ' never sent (not in the identity map)', ', ') AS reason
      FROM edfi_sync.staged_record s, unnest(s.parent_keys) pk
     WHERE s.run_id = %(run_id)s AND s.resource = %(resource)s AND s.partition = %(partition)s
       AND s.status = 'staged'
       AND split_part(pk, ':', 1) NOT IN (SELECT resource FROM staged_resources)
       AND NOT EXISTS (SELECT 1 FROM edfi_sync.identity_map m
                        WHERE m.resource = split_part(pk, ':', 1) AND m.natural_key_hash = split_part(pk, ':', 2)
                          AND (m.end_year = %(end_year)s OR %(shared_instance)s))
     GROUP BY s.seq
)
UPDATE edfi_sync.staged_record s
   SET status = 'skipped', error_code = 'parent_failed',
       error_message = concat_ws(', ', (SELECT string_agg(f.reason, ', ') FROM failed f
                                         WHERE f.parent_key = ANY (s.parent_keys)),
                                 (SELECT u.reason FROM unsent u WHERE u.seq = s.seq))
 WHERE s.run_id = %(run_id)s AND s.resource = %(resource)s AND s.partition = %(partition)s AND s.status = 'staged'
   AND (s.parent_keys && (SELECT coalesce(array_agg(parent_key), '{}') FROM failed)
        OR s.seq IN (SELECT seq FROM unsent))
RETURNING s.sis_object_key, s.natural_key_hash, s.payload, s.student_unique_id, s.student_name,
          s.school_ids, s.error_message
