-- A preview's plan (the Delete Tool): what was asked for; its records follow (plan_record_insert).
INSERT INTO edfi_sync.delete_plan (plan_id, end_year, requested, summary)
VALUES (%(plan_id)s, %(end_year)s, %(requested)s, %(summary)s)
