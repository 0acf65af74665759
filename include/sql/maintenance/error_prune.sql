-- One batch of resolved error rows resolved before the cutoff, of runs no longer going (a run
-- pruned from the ledger was over). Open rows are never pruned, nor archived ones: an archived
-- row is what keeps a known, accepted error from opening again.
DELETE FROM edfi_sync.error_log
 WHERE ctid = ANY (ARRAY(
       SELECT e.ctid FROM edfi_sync.error_log e
        WHERE e.resolved AND e.resolved_reason <> 'archived' AND e.resolved_at < %(cutoff)s
          AND NOT EXISTS (SELECT 1 FROM edfi_sync.sync_run r
                           WHERE r.run_id IN (e.run_id, e.resolved_by_run) AND r.status = 'running')
        LIMIT %(batch)s))
