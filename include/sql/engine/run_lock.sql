-- SPEC §6.1: a CLI run holds this lock for its life (its connection's session); once the lock is
-- free while the ledger still says 'running', the run died and is abandoned (runs_abandon.sql).
SELECT pg_advisory_lock(hashtextextended('edfi_sync:run:' || %(run_id)s, 0))
