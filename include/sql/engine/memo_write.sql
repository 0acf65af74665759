-- Remember what this stage built from each row (item -1: nothing), except rows with a build failure:
-- those are rebuilt (and their error seen again) every run. Joined by digest (identical rows make
-- identical records: the conflict keeps one copy).
WITH built AS (
    SELECT DISTINCT e.source_digest
      FROM extracted_source e
     WHERE NOT EXISTS (SELECT 1 FROM reused_source r WHERE r.source_seq = e.source_seq)
       AND NOT EXISTS (SELECT 1 FROM edfi_sync.staged_record f
                        WHERE f.run_id = %(run_id)s AND f.resource = %(resource)s AND f.partition = %(partition)s
                          AND f.source_digest = e.source_digest AND f.status = 'build_failed')
)
INSERT INTO edfi_sync.stage_memo (end_year, resource, source_digest, item, context, natural_key_hash, natural_key,
                                  sis_object_key, payload, payload_hash, school_ids, student_unique_id, student_name,
                                  precedence, parent_keys, replace_hash)
SELECT %(end_year)s, %(resource)s, b.source_digest, coalesce((s.seq %% %(items)s)::integer, -1),
       %(context)s, s.natural_key_hash, s.natural_key, s.sis_object_key, s.payload, s.payload_hash, s.school_ids,
       s.student_unique_id, s.student_name, s.precedence, s.parent_keys, s.replace_hash
  FROM built b
  LEFT JOIN edfi_sync.staged_record s
         ON s.run_id = %(run_id)s AND s.resource = %(resource)s AND s.partition = %(partition)s
        AND s.source_digest = b.source_digest
ON CONFLICT DO NOTHING
