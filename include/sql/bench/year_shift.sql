-- bench/retention_year.py: move the real runs (and their errors) back to before the simulated year.
WITH runs AS (
    UPDATE edfi_sync.sync_run SET started_at = started_at - %(by)s, finished_at = finished_at - %(by)s
), steps AS (
    UPDATE edfi_sync.resource_run SET started_at = started_at - %(by)s, finished_at = finished_at - %(by)s
)
UPDATE edfi_sync.error_log SET created_at = created_at - %(by)s, last_seen_at = last_seen_at - %(by)s,
                               resolved_at = resolved_at - %(by)s
