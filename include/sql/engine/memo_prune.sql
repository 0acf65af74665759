-- Forget rows the SIS no longer yields, and everything built under another context. A partition's
-- extract holds only its students' rows, so it forgets only theirs; rows that made no record name
-- no student and are forgotten by a whole stage or a new context (the memo is a cache: a row whose
-- digest is not extracted is never used).
DELETE FROM edfi_sync.stage_memo m
 WHERE m.end_year = %(end_year)s AND m.resource = %(resource)s
   AND (m.context <> %(context)s
        OR (%(partitions)s = 1
            OR m.item >= 0 AND edfi_sync.student_partition(m.student_unique_id, %(partitions)s) = %(partition)s)
           AND NOT EXISTS (SELECT 1 FROM extracted_source e WHERE e.source_digest = m.source_digest))
