-- Stage the records of the proven rows exactly as the last stage built them (mark_unchanged then
-- finds them unchanged like any other record), in this partition. seq follows the extract order as
-- a build numbers them.
INSERT INTO edfi_sync.staged_record (run_id, end_year, resource, partition, seq, natural_key_hash, natural_key,
                                     sis_object_key, payload, payload_hash, school_ids, student_unique_id,
                                     student_name, precedence, parent_keys, replace_hash, source_digest)
SELECT %(run_id)s, m.end_year, m.resource, %(partition)s, r.source_seq * %(items)s + m.item, m.natural_key_hash,
       m.natural_key, m.sis_object_key, m.payload, m.payload_hash, m.school_ids, m.student_unique_id, m.student_name,
       m.precedence, m.parent_keys, m.replace_hash, m.source_digest
  FROM reused_source r
  JOIN edfi_sync.stage_memo m
    ON m.end_year = %(end_year)s AND m.resource = %(resource)s AND m.source_digest = r.source_digest
 WHERE m.item >= 0
