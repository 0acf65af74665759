INSERT INTO edfi_sync.resource_run (run_id, end_year, resource, phase, partition, partitions)
VALUES (%(run_id)s, %(end_year)s, %(resource)s, %(phase)s, %(partition)s, %(partitions)s)
ON CONFLICT (run_id, resource, phase, partition) DO UPDATE
   SET status = 'running', counts = '{}'::jsonb, started_at = now(), finished_at = NULL,
       partitions = excluded.partitions
