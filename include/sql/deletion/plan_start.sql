-- A plan is run once: the first run takes it, any other finds it taken (and says by whom).
UPDATE edfi_sync.delete_plan
   SET status = 'running', executed_by = %(run_id)s, executed_at = now()
 WHERE plan_id = %(plan_id)s AND end_year = %(end_year)s AND status = 'previewed'
RETURNING plan_id
