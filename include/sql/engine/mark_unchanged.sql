-- Same natural key, same payload hash: nothing to send (an unchanged run sends zero requests).
-- Returns every unchanged record of the partition: those marked here, and those the memo staged
-- unchanged (memo_stage.sql) that are still so (the count reads the stage as it was before this
-- update).
WITH marked AS (
    UPDATE edfi_sync.staged_record s
       SET status = 'unchanged'
      FROM edfi_sync.identity_map m
     WHERE s.run_id = %(run_id)s AND s.resource = %(resource)s AND s.partition = %(partition)s
       AND s.status = 'staged'
       AND m.end_year = s.end_year AND m.resource = s.resource AND m.natural_key_hash = s.natural_key_hash
       AND m.payload_hash = s.payload_hash AND m.edfi_id IS NOT NULL
    RETURNING 1
)
SELECT (SELECT count(*) FROM marked)
       + (SELECT count(*) FROM edfi_sync.staged_record
           WHERE run_id = %(run_id)s AND resource = %(resource)s AND partition = %(partition)s
             AND status = 'unchanged') AS unchanged
