SELECT seq, resource, edfi_id, natural_key, role, depends_on, depth, in_identity_map, sis_object_key,
       student_unique_id, action, reason, outcome, http_status, message
  FROM edfi_sync.delete_plan_record
 WHERE plan_id = %(plan_id)s
 ORDER BY seq
