-- Statistics for the rows just copied in (a transaction's own rows count): without them the
-- planner takes the staging tables for empty and joins them by nested loops, quadratic in the
-- row count (mark_duplicates alone took 4 s for 2,000 records, hours for 100,000).
ANALYZE edfi_sync.staged_record, edfi_sync.ods_record
