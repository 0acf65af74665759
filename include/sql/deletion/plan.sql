SELECT plan_id, end_year, requested, created_at, status, executed_by, executed_at, finished_at, summary, message
  FROM edfi_sync.delete_plan
 WHERE plan_id = %(plan_id)s
