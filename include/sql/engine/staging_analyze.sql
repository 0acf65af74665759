-- Statistics before the diff, for the rows just copied in (a transaction's own rows count) and for
-- the identity map, which a big run or a killed one grows faster than autovacuum re-analyzes it.
-- Without them the planner takes these tables for nearly empty and joins or probes them row by row
-- through the wrong index: quadratic in the row count (mark_duplicates took 4 s for 2,000 records;
-- post_actions and map_delete of an SSA key-change run 20 s and 10 s for 7,600).
ANALYZE edfi_sync.staged_record, edfi_sync.ods_record, edfi_sync.identity_map
