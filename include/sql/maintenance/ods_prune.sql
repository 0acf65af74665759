-- One batch of the ODS rows a resync of a step staged, of runs that ended before the cutoff
-- (run under the step lock, like stage_prune.sql).
DELETE FROM edfi_sync.ods_record
 WHERE ctid = ANY (ARRAY(
       SELECT o.ctid FROM edfi_sync.ods_record o
         JOIN edfi_sync.sync_run r ON r.run_id = o.run_id
        WHERE o.end_year = %(end_year)s AND o.resource = %(resource)s
          AND r.status IN ('success', 'record_errors', 'failed', 'abandoned') AND r.finished_at < %(cutoff)s
        LIMIT %(batch)s))
