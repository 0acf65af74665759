-- This partition's earlier attempt in this run, and its rows of runs that are over; partition 0
-- also takes rows of partitions the run no longer has. A run still going keeps its rows (its delete
-- step needs them), and so do the run's other partitions. "Over" is what the ledger says, never an
-- age (SPEC §6.1): a CLI run that died was abandoned when this run began (runs_abandon.sql); an
-- Airflow run is closed by its DAG run's end. Were a run's rows ever cleared too soon, its delete
-- step would refuse (the stage fingerprint of resource_run), never read them as gone.
DELETE FROM edfi_sync.staged_record s
 WHERE s.end_year = %(end_year)s AND s.resource = %(resource)s
   AND (s.partition = %(partition)s OR (%(partition)s = 0 AND s.partition >= %(partitions)s))
   AND (s.run_id = %(run_id)s
        OR NOT EXISTS (SELECT 1 FROM edfi_sync.sync_run r
                        WHERE r.run_id = s.run_id AND r.status = 'running'))
