-- One batch of run ledger rows (a run and its steps, ON DELETE CASCADE): runs that ended before
-- the cutoff and have no staged or ODS rows left, except a run holding some step's latest
-- finished post, every partition of it (the reconciliation report reads it).
WITH latest_post AS (
    SELECT DISTINCT ON (end_year, resource) run_id
      FROM edfi_sync.resource_step
     WHERE phase = 'post' AND status = 'done'
     ORDER BY end_year, resource, finished_at DESC
), doomed AS (
    SELECT r.run_id FROM edfi_sync.sync_run r
     WHERE r.status IN ('success', 'record_errors', 'failed', 'abandoned') AND r.finished_at < %(cutoff)s
       AND r.run_id NOT IN (SELECT run_id FROM latest_post)
       AND NOT EXISTS (SELECT 1 FROM edfi_sync.staged_record s WHERE s.run_id = r.run_id)
       AND NOT EXISTS (SELECT 1 FROM edfi_sync.ods_record o WHERE o.run_id = r.run_id)
     LIMIT %(batch)s
)
DELETE FROM edfi_sync.sync_run WHERE run_id IN (SELECT run_id FROM doomed)
