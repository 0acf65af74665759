-- max_in_flight 'auto': what this sender's limit found becomes every sender's budget.
INSERT INTO edfi_sync.send_budget (budget_key, in_flight_limit) VALUES (%(budget_key)s, %(in_flight_limit)s)
ON CONFLICT (budget_key) DO UPDATE SET in_flight_limit = excluded.in_flight_limit, updated_at = now()
