-- One server process owns a sandbox database at a time (it keeps the working set in memory).
SELECT pg_try_advisory_lock(hashtext('edfi_sandbox:' || current_database()))
