-- SPEC §6.1 error lifecycle: when a run may close an open error of one SIS object.
--
-- A SIS object is settled in a run when every record the run staged for it went out or was already
-- in the ODS (sent, unchanged; a duplicate merged into one of its own records counts as that
-- record): one SIS object may make several records (a student's academic records, one per term), and
-- one failing record must not be closed by the others' success. With waiting_deletes, it is settled
-- only once none of its identity-map rows still waits for a DELETE (a map row the run did not stage):
-- a DELETE error stays open until the record is really gone.
CREATE FUNCTION edfi_sync.sis_object_settled(run text, year integer, resource_name text, object_key text,
                                             waiting_deletes boolean)
RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT NOT EXISTS (
               SELECT 1 FROM edfi_sync.staged_record s
                WHERE s.run_id = run AND s.resource = resource_name AND s.sis_object_key = object_key
                  AND s.status NOT IN ('sent', 'unchanged')
                  AND NOT (s.status = 'duplicate' AND EXISTS (
                           SELECT 1 FROM edfi_sync.staged_record k
                            WHERE k.run_id = run AND k.resource = resource_name AND k.sis_object_key = object_key
                              AND k.natural_key_hash = s.natural_key_hash AND k.status IN ('sent', 'unchanged'))))
       AND NOT (waiting_deletes AND EXISTS (
               SELECT 1 FROM edfi_sync.identity_map m
                WHERE m.end_year = year AND m.resource = resource_name AND m.sis_object_key = object_key
                  AND NOT EXISTS (SELECT 1 FROM edfi_sync.staged_record s
                                   WHERE s.run_id = run AND s.resource = resource_name
                                     AND s.natural_key_hash = m.natural_key_hash)))
$$;
