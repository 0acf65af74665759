-- bench/retention_year.py: one simulated day of scheduled runs, each a copy of a real run's ledger
-- rows (its sync_run row and its steps), one every 30 minutes from %(day)s.
WITH slots AS (
    SELECT %(day)s::timestamptz + n * interval '30 minutes' AS at,
           'scheduled__' || to_char(%(day)s::timestamptz + n * interval '30 minutes',
                                    'YYYY-MM-DD"T"HH24:MI:SS') AS dag_run_id
      FROM generate_series(0, %(runs)s - 1) AS n
), runs AS (
    INSERT INTO edfi_sync.sync_run (run_id, end_year, origin, params, status, summary, started_at, finished_at,
                                    dag_id, dag_run_id, task_id)
    SELECT s.dag_run_id || '__' || r.end_year, r.end_year, r.origin, r.params, r.status, r.summary, s.at,
           s.at + (r.finished_at - r.started_at), r.dag_id, s.dag_run_id, r.task_id
      FROM slots s CROSS JOIN edfi_sync.sync_run r
     WHERE r.run_id = %(source)s
    RETURNING run_id, started_at
)
INSERT INTO edfi_sync.resource_run (run_id, end_year, resource, phase, status, counts, sis_count, ods_count,
                                    map_count, started_at, finished_at, staged_rows, staged_digest)
SELECT runs.run_id, s.end_year, s.resource, s.phase, s.status, s.counts, s.sis_count, s.ods_count, s.map_count,
       runs.started_at + (s.started_at - src.started_at), runs.started_at + (s.finished_at - src.started_at),
       s.staged_rows, s.staged_digest
  FROM runs
 CROSS JOIN edfi_sync.resource_run s
  JOIN edfi_sync.sync_run src ON src.run_id = s.run_id
 WHERE s.run_id = %(source)s
