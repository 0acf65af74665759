-- Every school year in scope (SPEC §4: an enabled connection row), oldest first.
SELECT end_year FROM edfi_sync.connection WHERE enabled ORDER BY end_year
