-- SPEC §6.1: the SIS rows whose records can be proven unchanged: the same row (digest) was built
-- under the same context (mapping snapshots, year, data standard, rules), with no build failure,
-- and every record it made is in the identity map with that payload. Anything else is rebuilt: a
-- record that failed (not in the map with that payload) is never skipped. A resource that merges
-- duplicates sends one row's payload per key: the others differ from the map by design, so a key
-- in the map suffices (memo_stage.sql stages a row whose payload the map lacks to be sent).
CREATE TEMP TABLE reused_source ON COMMIT DROP AS
SELECT e.source_seq, e.source_digest
  FROM extracted_source e
  JOIN (SELECT m.source_digest
          FROM edfi_sync.stage_memo m
          LEFT JOIN edfi_sync.identity_map i
                 ON i.end_year = m.end_year AND i.resource = m.resource AND i.natural_key_hash = m.natural_key_hash
         WHERE m.end_year = %(end_year)s AND m.resource = %(resource)s AND m.context = %(context)s
         GROUP BY m.source_digest
        HAVING bool_and(m.item < 0 OR (i.edfi_id IS NOT NULL
                                        AND (i.payload_hash = m.payload_hash OR %(merge_duplicates)s)))) proven
    ON proven.source_digest = e.source_digest
