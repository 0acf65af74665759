-- demo-data replaces the configuration it writes: the Resource Preferences of year Y and the
-- connections of Y-1 and Y. Toggles, snapshots and connector state (identity map, error log) stay.
WITH cleared_mappings AS (
    DELETE FROM edfi_sync.mapping WHERE end_year = %(year)s
)
DELETE FROM edfi_sync.connection WHERE end_year IN (%(year)s - 1, %(year)s);
