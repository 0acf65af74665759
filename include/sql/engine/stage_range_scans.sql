-- For the rest of this transaction: read a resource's staged rows through the primary key's range
-- (run_id, resource, partition), never by scanning the whole table. staged_record holds every
-- resource of the run, the previous run's rows until each resource is staged again, and the dead
-- versions the marks leave: a whole-table scan per statement per resource grew with every run
-- (mark_duplicates of a 1% change at scale 100: 1.2 s, then 2.5 s, then 4.1 s on three runs).
SET LOCAL enable_seqscan = off
