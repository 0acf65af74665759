-- The advisory-lock space of one Ed-Fi connection's budget (non-negative: pg_locks shows it as an oid).
SELECT hashtext('edfi_sync:budget:' || %(budget_key)s) & 2147483647
