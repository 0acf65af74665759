SELECT version FROM edfi_sync.schema_migration
