-- The seconds a DAG run's steps spent in their own work (each step's ledger row, start to end),
-- over every engine run (school year) the DAG run made.
SELECT coalesce(sum(extract(epoch FROM r.finished_at - r.started_at)), 0)::float
FROM edfi_sync.resource_run r
JOIN edfi_sync.sync_run s USING (run_id)
WHERE s.dag_run_id = %(dag_run_id)s
