-- SPEC §6.1 scale-out: the post step of a student-level resource may run as N partitions at once,
-- split by a hash of the student; each partition stages, records and is checked on its own, and
-- every task that sends to one ODS shares one in-flight budget.

-- The partition of a student: a hash of the studentUniqueId, which every student-level natural key
-- embeds, so a student's records (SARs and transcripts included) and any two SIS rows that make one
-- natural key always land in one partition. A missing id (a record that cannot be built) counts as ''.
CREATE FUNCTION edfi_sync.student_partition(student_unique_id text, partitions integer)
RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT mod(hashtext(coalesce(student_unique_id, ''))::bigint + 2147483648, partitions)::integer
$$;

-- The partition is part of the stage's key: partitions of one run never clear, overwrite or send
-- each other's rows. An unpartitioned step is partition 0 of 1.
ALTER TABLE edfi_sync.staged_record ADD COLUMN partition integer NOT NULL DEFAULT 0;
ALTER TABLE edfi_sync.staged_record DROP CONSTRAINT staged_record_pkey;
ALTER TABLE edfi_sync.staged_record ADD PRIMARY KEY (run_id, resource, partition, seq);

-- and of the ledger's: delete.X needs the stage fingerprint of every partition of post.X.
ALTER TABLE edfi_sync.resource_run
    ADD COLUMN partition  integer NOT NULL DEFAULT 0,
    ADD COLUMN partitions integer NOT NULL DEFAULT 1;
ALTER TABLE edfi_sync.resource_run
    ADD CONSTRAINT resource_run_partition CHECK (partitions >= 1 AND partition >= 0 AND partition < partitions);
ALTER TABLE edfi_sync.resource_run DROP CONSTRAINT resource_run_pkey;
ALTER TABLE edfi_sync.resource_run ADD PRIMARY KEY (run_id, resource, phase, partition);

-- A partition's replacements (seed 004's DELETE/POST) are its own.
ALTER TABLE edfi_sync.replace_pending ADD COLUMN partition integer NOT NULL DEFAULT 0;

-- max_in_flight 'auto': the limit found so far for an Ed-Fi connection (keyed like the token
-- cache), shared by every process that sends to it. A fixed max_in_flight needs no row.
CREATE TABLE edfi_sync.send_budget (
    budget_key      text        PRIMARY KEY,
    in_flight_limit integer     NOT NULL CHECK (in_flight_limit >= 1),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
