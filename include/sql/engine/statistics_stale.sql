-- Statistics only when they matter. Without them the planner takes a table for nearly empty and
-- joins or probes it row by row through the wrong index: quadratic in the row count (mark_duplicates
-- took 4 s for 2,000 records). But ANALYZE of three whole tables per resource was most of a run
-- that changed nothing. So: staged_record when this stage (%(staged)s rows, not yet committed, so
-- not in the counters) is a sizable part of it; identity_map and stage_memo when a fifth of them
-- changed since their last ANALYZE (faster than autovacuum re-analyzes a table a run grows).
SELECT c.relname
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'edfi_sync'
  LEFT JOIN pg_stat_user_tables t ON t.relid = c.oid
 WHERE (c.relname = 'staged_record' AND %(staged)s > 1000 AND %(staged)s > 0.1 * c.reltuples)
    OR (c.relname IN ('identity_map', 'stage_memo')
        AND coalesce(t.n_mod_since_analyze, 0) > 1000 + 0.2 * greatest(c.reltuples, 0))
 ORDER BY c.relname
