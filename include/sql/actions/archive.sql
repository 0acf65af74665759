-- Archive (SPEC §6.1): the open errors an operator chose, with why; archived is a resolution, and
-- the engine keeps the row archived while its record fails the same way (engine/error_insert.sql).
UPDATE edfi_sync.error_log
   SET resolved = true, resolved_at = now(), resolved_reason = 'archived', archived_by = %(actor)s,
       archive_note = %(note)s
 WHERE error_id = ANY (%(error_ids)s::bigint[]) AND NOT resolved
RETURNING error_id
