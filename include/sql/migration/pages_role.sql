-- The roles the operator pages use on the connector database (SPEC §6.1), and exactly their rights:
--   edfi_sync_reader   reads what the pages show, nothing else, and never edfi_sync.token_cache;
--   edfi_sync_operator writes what the pages' actions write, nothing else: an error's archiving
--                      (its resolution columns) and the audit trail (new rows). Ed-Fi work is never
--                      theirs: every action that reaches the ODS runs as a DAG run, with the login.
-- Run by every `db init` after the migrations: roles are cluster-wide and the grants belong to each
-- database, so it is idempotent, and concurrent runs on one server (tests create many databases)
-- both succeed. A login that may not create roles gets a warning and nothing else fails: the pages
-- then refuse (503) until a DBA creates the roles and `db init` runs again.
DO $$
DECLARE
    name text;
BEGIN
    FOREACH name IN ARRAY ARRAY['edfi_sync_reader', 'edfi_sync_operator'] LOOP
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = name) THEN
            BEGIN
                EXECUTE format('CREATE ROLE %I NOLOGIN', name);
            EXCEPTION
                WHEN duplicate_object OR unique_violation THEN NULL;  -- a concurrent db init made it
                WHEN insufficient_privilege THEN
                    RAISE WARNING '%: % may not create roles; the operator pages stay closed until a DBA runs: '
                                  'CREATE ROLE % NOLOGIN; GRANT % TO %; then edfi-sync db init again',
                                  name, current_user, name, name, current_user;
                    CONTINUE;
            END;
        END IF;
        -- The pages log in as this database's user and take the role at connection start.
        BEGIN
            EXECUTE format('GRANT %I TO CURRENT_USER', name);
        EXCEPTION
            WHEN duplicate_object OR unique_violation THEN NULL;  -- granted by a concurrent db init
            WHEN insufficient_privilege OR invalid_grant_operation THEN
                RAISE WARNING '%: % cannot take the role; a DBA runs: GRANT % TO %', name, current_user, name,
                              current_user;
        END;
    END LOOP;
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'edfi_sync_reader') THEN
        GRANT USAGE ON SCHEMA edfi_sync, sis TO edfi_sync_reader;
        -- staged_record and ods_record: a dry run's stage is what the Resync preview shows.
        GRANT SELECT ON edfi_sync.error_log, edfi_sync.identity_map, edfi_sync.sync_run, edfi_sync.resource_run,
                        edfi_sync.resource_step, edfi_sync.connection, edfi_sync.staged_record, edfi_sync.ods_record,
                        edfi_sync.audit_log, edfi_sync.delete_plan, edfi_sync.delete_plan_record, sis.person, sis.school
           TO edfi_sync_reader;
    END IF;
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'edfi_sync_operator') THEN
        GRANT USAGE ON SCHEMA edfi_sync TO edfi_sync_operator;
        GRANT SELECT (error_id, resolved), UPDATE (resolved, resolved_at, resolved_reason, archived_by, archive_note)
           ON edfi_sync.error_log TO edfi_sync_operator;
        GRANT SELECT (audit_id), INSERT (actor, origin, action, school_year, params, dag_id, dag_run_id, outcome, result)
           ON edfi_sync.audit_log TO edfi_sync_operator;
        GRANT USAGE ON SEQUENCE edfi_sync.audit_log_audit_id_seq TO edfi_sync_operator;
    END IF;
END
$$;
