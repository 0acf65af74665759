-- The error-log rows an operator chose on the Error Log (archive, retry).
SELECT e.error_id, e.end_year, e.resource, e.sis_object_key, e.status, e.natural_key_hash, e.request_body,
       edfi_sync.error_state(e.resolved, e.resolved_reason) AS state
  FROM edfi_sync.error_log e
 WHERE e.error_id = ANY (%(error_ids)s::bigint[])
 ORDER BY e.error_id
