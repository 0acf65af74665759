UPDATE edfi_sync.delete_plan_record SET outcome = %(outcome)s, http_status = %(http_status)s, message = %(message)s
 WHERE plan_id = %(plan_id)s AND seq = %(seq)s
