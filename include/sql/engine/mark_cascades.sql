-- A retry (records / --only): the selected records whose natural key the ODS does not hold yet (new,
-- re-keyed, or to be deleted and posted again for a replace_on change) take their children along,
-- whose keys embed theirs (mark_out_of_selection.sql). Selected records the ODS already holds under
-- the same key leave their children alone: nothing of theirs changes.
UPDATE edfi_sync.staged_record s
   SET cascades = true
 WHERE s.run_id = %(run_id)s AND s.resource = %(resource)s AND s.partition = %(partition)s
   AND s.status = 'staged'
   AND NOT EXISTS (SELECT 1 FROM edfi_sync.identity_map m
                    WHERE m.end_year = s.end_year AND m.resource = s.resource
                      AND m.natural_key_hash = s.natural_key_hash AND m.edfi_id IS NOT NULL
                      AND (m.replace_hash IS NULL OR s.replace_hash IS NULL OR m.replace_hash = s.replace_hash))
