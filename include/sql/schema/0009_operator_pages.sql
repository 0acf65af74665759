-- The operator pages in the Airflow UI (Error Log, Identity Mapping Report, runs) and
-- `edfi-sync report`: the lookups their filters and keyset pages make, and the few rules both
-- the pages and the CLI read (one definition each). Sized for 100k error rows and 1M identity-map
-- rows (bench/report_pages.py).

-- SPEC §6.1's error lifecycle: open, resolved (sent, unchanged, deleted, gone) or archived.
CREATE FUNCTION edfi_sync.error_state(resolved boolean, resolved_reason text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN NOT resolved THEN 'open' WHEN resolved_reason = 'archived' THEN 'archived' ELSE 'resolved' END;

-- After a post step, the SIS, the ODS and the identity map should hold as many records.
CREATE FUNCTION edfi_sync.counts_disagree(sis_count integer, ods_count integer, map_count integer) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN sis_count IS DISTINCT FROM map_count OR (ods_count IS NOT NULL AND ods_count IS DISTINCT FROM map_count);

-- A step's counts (resource_run.counts) in two numbers: records sent (every *.ok) and record
-- errors (as StepResult.record_errors counts them).
CREATE FUNCTION edfi_sync.records_sent(counts jsonb) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN (SELECT coalesce(sum(value::bigint), 0) FROM jsonb_each_text(counts) WHERE key LIKE '%.ok');

CREATE FUNCTION edfi_sync.record_errors(counts jsonb) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN (SELECT coalesce(sum(value::bigint), 0) FROM jsonb_each_text(counts)
         WHERE key LIKE '%.failed' OR key IN ('build_failed', 'skipped', 'duplicate'));

-- Every scalar of a natural key, at any depth: a search for 255901 or "2024-08-19" finds the
-- records whose key holds it.
CREATE FUNCTION edfi_sync.natural_key_values(natural_key jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN jsonb_path_query_array(natural_key, 'strict $.** ? (@.type() == "string" || @.type() == "number")');

-- The Error Log reads every row its filters select (to count and summarise them, and to pick a
-- page): from this index alone, a sixth of the table's size, without the bodies and messages.
CREATE INDEX error_log_filters ON edfi_sync.error_log (resolved, end_year)
    INCLUDE (resource, error_code, error_class, school_id, run_id, student_unique_id, sis_object_key, student_name,
             resolved_reason, created_at, last_seen_at, occurrences, error_id);
-- Error Log filters that narrow the set to a few rows (a student, a SIS record, a school, a code).
CREATE INDEX error_log_student ON edfi_sync.error_log (student_unique_id);
CREATE INDEX error_log_object ON edfi_sync.error_log (sis_object_key);
CREATE INDEX error_log_school ON edfi_sync.error_log (school_id);
CREATE INDEX error_log_code ON edfi_sync.error_log (error_code, end_year);

-- The Identity Mapping Report pages through a year in this order; the engine's lookups by SIS
-- object key use the same index.
DROP INDEX edfi_sync.identity_map_object_key;
CREATE INDEX identity_map_object_key ON edfi_sync.identity_map (end_year, resource, sis_object_key, natural_key_hash);
-- Its searches: a SIS key or a student across resources, any natural-key value.
CREATE INDEX identity_map_sis_key ON edfi_sync.identity_map (sis_object_key);
CREATE INDEX identity_map_student ON edfi_sync.identity_map (student_unique_id);
CREATE INDEX identity_map_key_values ON edfi_sync.identity_map USING gin (edfi_sync.natural_key_values(natural_key) jsonb_path_ops);
-- Student names for studentUniqueIds (and back).
CREATE INDEX person_state_id ON sis.person (state_id);

-- Runs, newest first.
CREATE INDEX sync_run_started ON edfi_sync.sync_run (started_at DESC, run_id DESC);
