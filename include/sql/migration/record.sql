INSERT INTO edfi_sync.schema_migration (version, name) VALUES (%(version)s, %(name)s)
