-- bench/retention_year.py: each connector table's size (with its indexes and TOAST), largest first.
SELECT c.relname, pg_total_relation_size(c.oid) AS bytes
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = 'edfi_sync' AND c.relkind = 'r'
 ORDER BY 2 DESC
