-- SPEC §6.1: a SIS object staged fine and already in the ODS (status unchanged, whoever marked it)
-- resolves its earlier errors, once settled (see errors_resolve.sql); 'sent' when part of it was sent.
UPDATE edfi_sync.error_log e
   SET resolved = true, resolved_at = now(), resolved_by_run = %(run_id)s,
       resolved_reason = CASE WHEN EXISTS (SELECT 1 FROM edfi_sync.staged_record s
                                            WHERE s.run_id = %(run_id)s AND s.resource = e.resource
                                              AND s.sis_object_key = e.sis_object_key AND s.status = 'sent')
                              THEN 'sent' ELSE 'unchanged' END
 WHERE e.end_year = %(end_year)s AND e.resource = %(resource)s AND NOT e.resolved AND e.run_id <> %(run_id)s
   AND e.sis_object_key IN (SELECT s.sis_object_key FROM edfi_sync.staged_record s
                             WHERE s.run_id = %(run_id)s AND s.resource = %(resource)s AND s.status = 'unchanged')
   AND edfi_sync.sis_object_settled(%(run_id)s, e.end_year, e.resource, e.sis_object_key, e.action = 'DELETE')
