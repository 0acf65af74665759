-- Children whose parent failed (or was skipped) earlier in this run are not sent; nor are children
-- of a parent this run did not stage and the identity map has never seen (a partial run before
-- its parents were ever sent): both would only earn a 400 storm.
-- Set-based (hash joins over the children's parent keys), so it stays linear in the run's records;
-- parents_unsettled.sql says which parents were not staged, and whether this is needed at all.
-- The children are this partition's; their parents are of any partition (every partition of the
-- parent resource was staged before this step started).
WITH failed AS (
    SELECT p.resource || ':' || p.natural_key_hash AS parent_key,
           -- A skipped parent carries its own parent's reason: the chain leads to the root cause.
           p.resource || ' ' || p.sis_object_key || ' (' || coalesce(p.error_code, p.status)
               || coalesce(': ' || p.error_message, '') || ')' AS reason
      FROM edfi_sync.staged_record p
     WHERE p.run_id = %(run_id)s AND p.status IN ('failed', 'skipped', 'build_failed')
       AND p.natural_key_hash IS NOT NULL
), refs AS (
    SELECT s.seq, pk, split_part(pk, ':', 1) AS parent
      FROM edfi_sync.staged_record s, unnest(s.parent_keys) pk
     WHERE s.run_id = %(run_id)s AND s.resource = %(resource)s AND s.partition = %(partition)s
       AND s.status IN ('staged', 'unchanged')
), failed_parents AS (
    SELECT r.seq, string_agg(f.reason, ', ') AS reason
      FROM refs r JOIN failed f ON f.parent_key = r.pk
     GROUP BY r.seq
), unsent AS (
    SELECT r.seq, string_agg(r.parent || ' never sent (not in the identity map)', ', ') AS reason
      FROM refs r
     WHERE r.parent = ANY (%(unstaged_parents)s::text[])
       AND NOT EXISTS (SELECT 1 FROM edfi_sync.identity_map m
                        WHERE m.resource = r.parent AND m.natural_key_hash = split_part(r.pk, ':', 2)
                          AND (m.end_year = %(end_year)s OR %(shared_instance)s))
     GROUP BY r.seq
), marked AS (
    SELECT coalesce(f.seq, u.seq) AS seq, concat_ws(', ', f.reason, u.reason) AS reason
      FROM failed_parents f FULL JOIN unsent u ON u.seq = f.seq
)
UPDATE edfi_sync.staged_record s
   SET status = 'skipped', error_code = 'parent_failed', error_message = k.reason
  FROM marked k
 WHERE s.run_id = %(run_id)s AND s.resource = %(resource)s AND s.partition = %(partition)s AND s.seq = k.seq
RETURNING s.sis_object_key, s.natural_key_hash, s.payload, s.student_unique_id, s.student_name,
          s.school_ids, s.error_message
