-- A step's ledger rows, one per partition (an unpartitioned step has partition 0 of 1). Rows of
-- another partition count (an attempt before EDFI_SYNC_PARTITIONS changed) come first: the caller
-- reads the count of the latest attempt.
SELECT partition, partitions, status, started_at, staged_rows, staged_digest, counts, sis_count, map_count
  FROM edfi_sync.resource_run
 WHERE run_id = %(run_id)s AND resource = %(resource)s AND phase = %(phase)s
 ORDER BY started_at, partition
