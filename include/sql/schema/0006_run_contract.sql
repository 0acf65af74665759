-- SPEC §5.7: what a post step staged, so its delete step can tell a complete stage from one
-- that was cleared after the run or lost with the unlogged table (and refuse to read it).
ALTER TABLE edfi_sync.resource_run
    ADD COLUMN staged_rows   integer,
    ADD COLUMN staged_digest text;
