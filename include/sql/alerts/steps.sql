-- The steps of those runs (partitions merged): what each sent, failed or is still doing.
SELECT run_id, resource, phase, status, counts
  FROM edfi_sync.resource_step
 WHERE run_id = ANY (%(run_ids)s)
 ORDER BY run_id, started_at
