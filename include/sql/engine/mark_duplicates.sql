-- Several SIS rows with one natural key: keep the highest precedence (latest end_year, then highest id).
-- Only keys staged more than once are ranked (a hash aggregate, not a sort of the whole stage).
-- Within the partition: a natural key embeds the student, so its rows never span two. Records the
-- memo staged (unchanged) rank with the built ones.
WITH repeated AS (
    SELECT coalesce(natural_key_hash, '') AS key
      FROM edfi_sync.staged_record
     WHERE run_id = %(run_id)s AND resource = %(resource)s AND partition = %(partition)s
       AND status IN ('staged', 'unchanged')
     GROUP BY 1
    HAVING count(*) > 1
), ranked AS (
    SELECT seq, first_value(sis_object_key) OVER w AS kept_object_key,
           row_number() OVER w AS rank
      FROM edfi_sync.staged_record
     WHERE run_id = %(run_id)s AND resource = %(resource)s AND partition = %(partition)s
       AND status IN ('staged', 'unchanged')
       AND coalesce(natural_key_hash, '') IN (SELECT key FROM repeated)
    WINDOW w AS (PARTITION BY natural_key_hash ORDER BY precedence DESC, seq DESC)
)
UPDATE edfi_sync.staged_record s
   SET status = 'duplicate'
  FROM ranked r
 WHERE s.run_id = %(run_id)s AND s.resource = %(resource)s AND s.partition = %(partition)s AND s.seq = r.seq
   AND r.rank > 1
RETURNING s.sis_object_key, r.kept_object_key, s.natural_key_hash, s.payload, s.student_unique_id,
          s.student_name, s.school_ids
