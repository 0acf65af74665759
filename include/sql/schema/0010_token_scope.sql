-- The education organizations a cached token's response named (its `scope`), so that a process that
-- takes the cached token knows its claims too: preflight checks them without asking a token of its
-- own each run (the ODS/API limits live tokens per client).
ALTER TABLE edfi_sync.token_cache ADD COLUMN IF NOT EXISTS scope text NOT NULL DEFAULT '';
