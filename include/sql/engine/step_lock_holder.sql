-- Who holds a step lock: the application_name of its connection names the run ("edfi-sync <run_id>").
-- pg_locks shows a bigint advisory key as its high half (classid) and low half (objid).
SELECT a.application_name
  FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
 WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 AND l.pid <> pg_backend_pid()
   AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
   AND ((l.classid::bigint << 32) | l.objid::bigint)
       = hashtextextended('edfi_sync:' || %(end_year)s || ':' || %(resource)s, 0)
 LIMIT 1
