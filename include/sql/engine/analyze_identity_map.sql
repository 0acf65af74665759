-- The whole table: only a full ANALYZE resets n_mod_since_analyze, which says when to run it again.
ANALYZE edfi_sync.identity_map
