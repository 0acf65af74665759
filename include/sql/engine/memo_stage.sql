-- Stage the records of the proven rows exactly as the last stage built them, in this partition,
-- already marked unchanged: memo_reusable proved what mark_unchanged checks (same key and payload
-- in the identity map), so only duplicates, children of failed parents and other schools' records
-- change their status, as they would for any record. seq follows the extract order as a build
-- numbers them.
-- A resource whose duplicates are one record by design (merge_duplicates: the LEA-level course many
-- transcripts name) stages only the best proven row of each key: the others would be set aside
-- as merged all the same, a row for every transcript of the district every run. That row is
-- unchanged only when the map holds its payload (it may be a row that was merged away last run).
INSERT INTO edfi_sync.staged_record (run_id, end_year, resource, partition, seq, natural_key_hash, natural_key,
                                     sis_object_key, payload, payload_hash, school_ids, student_unique_id,
                                     student_name, precedence, parent_keys, replace_hash, source_digest, status)
SELECT %(run_id)s, p.end_year, p.resource, %(partition)s, p.seq, p.natural_key_hash, p.natural_key,
       p.sis_object_key, p.payload, p.payload_hash, p.school_ids, p.student_unique_id, p.student_name,
       p.precedence, p.parent_keys, p.replace_hash, p.source_digest,
       CASE WHEN NOT %(merge_duplicates)s OR EXISTS (
                SELECT 1 FROM edfi_sync.identity_map i
                 WHERE i.end_year = p.end_year AND i.resource = p.resource
                   AND i.natural_key_hash = p.natural_key_hash AND i.payload_hash = p.payload_hash
                   AND i.edfi_id IS NOT NULL)
            THEN 'unchanged' ELSE 'staged' END
  FROM (SELECT r.source_seq * %(items)s + m.item AS seq, m.*,
               -- Folded to 1 when the plan is made for a resource that does not merge.
               CASE WHEN %(merge_duplicates)s AND m.natural_key_hash IS NOT NULL
                    THEN row_number() OVER (PARTITION BY m.natural_key_hash
                                            ORDER BY m.precedence DESC, r.source_seq * %(items)s + m.item DESC)
                    ELSE 1 END AS rank
          FROM reused_source r
          JOIN edfi_sync.stage_memo m
            ON m.end_year = %(end_year)s AND m.resource = %(resource)s AND m.source_digest = r.source_digest
         WHERE m.item >= 0) p
 WHERE p.rank = 1
