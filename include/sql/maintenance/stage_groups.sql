-- The (year, resource) steps with staged or ODS rows of runs that ended before the cutoff:
-- retention prunes each under its step lock, taken only when free.
SELECT s.end_year, s.resource
  FROM (SELECT DISTINCT run_id, end_year, resource FROM edfi_sync.staged_record
        UNION
        SELECT DISTINCT run_id, end_year, resource FROM edfi_sync.ods_record) s
  JOIN edfi_sync.sync_run r ON r.run_id = s.run_id
 WHERE r.status IN ('success', 'record_errors', 'failed', 'abandoned') AND r.finished_at < %(cutoff)s
 GROUP BY s.end_year, s.resource
 ORDER BY s.end_year, s.resource
