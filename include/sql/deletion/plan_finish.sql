UPDATE edfi_sync.delete_plan
   SET status = %(status)s, finished_at = now(), message = %(message)s, summary = coalesce(%(summary)s, summary)
 WHERE plan_id = %(plan_id)s
