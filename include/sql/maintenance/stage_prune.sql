-- One batch of a step's staged rows and resync ODS rows of runs that ended before the cutoff; run
-- under the step lock (a delete step reads its stage between its guard and its cursor under that
-- same lock). The runs' state is read in this statement: a run reopened since (a cleared task)
-- keeps its rows. Returns the larger of the two batches (below the batch size: the step is done).
WITH finished AS (
    SELECT run_id FROM edfi_sync.sync_run
     WHERE status IN ('success', 'record_errors', 'failed', 'abandoned') AND finished_at < %(cutoff)s
), staged AS (
    DELETE FROM edfi_sync.staged_record WHERE ctid = ANY (ARRAY(
        SELECT ctid FROM edfi_sync.staged_record WHERE end_year = %(end_year)s AND resource = %(resource)s
           AND run_id IN (SELECT run_id FROM finished) LIMIT %(batch)s))
    RETURNING 1
), ods AS (
    DELETE FROM edfi_sync.ods_record WHERE ctid = ANY (ARRAY(
        SELECT ctid FROM edfi_sync.ods_record WHERE end_year = %(end_year)s AND resource = %(resource)s
           AND run_id IN (SELECT run_id FROM finished) LIMIT %(batch)s))
    RETURNING 1
)
SELECT (SELECT count(*) FROM staged), (SELECT count(*) FROM ods)
