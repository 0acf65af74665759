-- Issue 20: a run costs what changed. SPEC §6.1: a run may skip rebuilding the records of a SIS
-- row it can prove unchanged, and still stages them (status unchanged).

-- The SIS row each staged record was built from (md5 of the extract row), so the stage can be
-- remembered per row.
ALTER TABLE edfi_sync.staged_record ADD COLUMN source_digest text;

-- What the last stage built from each SIS row: the staged columns of its records (item >= 0), or
-- item -1 for a row that made none. A row whose digest, build context (mapping snapshots, year,
-- data standard, rules) and every record's identity-map row still match is staged from here
-- instead of being rebuilt. Rows with a build failure are never remembered. A cache: unlogged, a
-- crash empties it and the next run rebuilds everything.
CREATE UNLOGGED TABLE edfi_sync.stage_memo (
    end_year          integer   NOT NULL,
    resource          text      NOT NULL,
    source_digest     text      NOT NULL,
    item              integer   NOT NULL,
    context           text      NOT NULL,
    natural_key_hash  text,
    natural_key       jsonb,
    sis_object_key    text,
    payload           jsonb,
    payload_hash      text,
    school_ids        text[],
    student_unique_id text,
    student_name      text,
    precedence        numeric[],
    parent_keys       text[],
    replace_hash      text,
    PRIMARY KEY (end_year, resource, source_digest, item)
);

-- mark_parent_failed reads the run's failed records of every resource: few among many.
CREATE INDEX staged_record_failed ON edfi_sync.staged_record (run_id)
    WHERE status IN ('failed', 'skipped', 'build_failed');
