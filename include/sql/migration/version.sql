-- 0 for a database db init never touched.
SELECT CASE WHEN to_regclass('edfi_sync.schema_migration') IS NULL THEN 0
            ELSE (SELECT coalesce(max(version), 0) FROM edfi_sync.schema_migration) END
