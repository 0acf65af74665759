-- One batch of a step's staged rows of runs that ended before the cutoff (run under the step
-- lock: a delete step reads its stage between its guard and its cursor under that same lock).
-- The run's state is checked in this statement, so a run reopened since (a cleared task) keeps its rows.
DELETE FROM edfi_sync.staged_record
 WHERE ctid = ANY (ARRAY(
       SELECT s.ctid FROM edfi_sync.staged_record s
         JOIN edfi_sync.sync_run r ON r.run_id = s.run_id
        WHERE s.end_year = %(end_year)s AND s.resource = %(resource)s
          AND r.status IN ('success', 'record_errors', 'failed', 'abandoned') AND r.finished_at < %(cutoff)s
        LIMIT %(batch)s))
