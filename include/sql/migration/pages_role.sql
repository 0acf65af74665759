-- The role the operator pages read the connector database with (SPEC §6.1): SELECT on what they
-- show, nothing else, and never edfi_sync.token_cache. Run by every `db init` after the
-- migrations: roles are cluster-wide and the grants belong to each database, so it is
-- idempotent, and concurrent runs on one server (tests create many databases) both succeed.
-- A login that may not create roles gets a warning and nothing else fails: the pages then
-- refuse to read (503) until a DBA creates the role and `db init` runs again.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'edfi_sync_reader') THEN
        BEGIN
            CREATE ROLE edfi_sync_reader NOLOGIN;
        EXCEPTION
            WHEN duplicate_object OR unique_violation THEN NULL;  -- a concurrent db init made it
            WHEN insufficient_privilege THEN
                RAISE WARNING 'edfi_sync_reader: % may not create roles; the operator pages stay closed until a '
                              'DBA runs: CREATE ROLE edfi_sync_reader NOLOGIN; GRANT edfi_sync_reader TO %; '
                              'then edfi-sync db init again', current_user, current_user;
                RETURN;
        END;
    END IF;
    -- The pages log in as this database's user and take the role at connection start.
    BEGIN
        GRANT edfi_sync_reader TO CURRENT_USER;
    EXCEPTION
        WHEN duplicate_object OR unique_violation THEN NULL;  -- granted by a concurrent db init
        WHEN insufficient_privilege OR invalid_grant_operation THEN
            RAISE WARNING 'edfi_sync_reader: % cannot take the role; a DBA runs: GRANT edfi_sync_reader TO %',
                          current_user, current_user;
    END;
    GRANT USAGE ON SCHEMA edfi_sync, sis TO edfi_sync_reader;
    GRANT SELECT ON edfi_sync.error_log, edfi_sync.identity_map, edfi_sync.sync_run, edfi_sync.resource_run,
                    edfi_sync.connection, sis.person, sis.school
       TO edfi_sync_reader;
END
$$;
