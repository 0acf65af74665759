-- The senders of one Ed-Fi connection's budget: the backends holding its member lock (shared), in
-- pid order (a sender's rank in it settles who takes the remainder of an uneven split); and, for
-- max_in_flight 'auto', the limit found so far.
SELECT coalesce(array_agg(l.pid ORDER BY l.pid), '{}') AS senders, pg_backend_pid() AS me,
       (SELECT b.in_flight_limit FROM edfi_sync.send_budget b WHERE b.budget_key = %(budget_key)s) AS published
  FROM pg_locks l
 WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
   AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
   AND l.classid = %(budget)s::oid AND l.objid = 2147483647::oid
