-- The foreign keys and secondary indexes of the sis schema, each as a statement that drops it and one
-- that re-creates it exactly. A bulk load drops them, COPYs, and re-creates them: one validating pass
-- per key and one sorted index build instead of a trigger and an index insert per row.
SELECT format('ALTER TABLE %s DROP CONSTRAINT %I', c.conrelid::regclass, c.conname) AS drop_statement,
       format('ALTER TABLE %s ADD CONSTRAINT %I %s', c.conrelid::regclass, c.conname,
              pg_get_constraintdef(c.oid)) AS create_statement,
       2 AS create_order
FROM pg_constraint c
WHERE c.contype = 'f' AND c.connamespace = 'sis'::regnamespace
UNION ALL
SELECT format('DROP INDEX %s', i.indexrelid::regclass),
       pg_get_indexdef(i.indexrelid),
       1
FROM pg_index i
JOIN pg_class t ON t.oid = i.indrelid
WHERE t.relnamespace = 'sis'::regnamespace
  AND NOT i.indisprimary AND NOT i.indisunique
  AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
ORDER BY create_order DESC, drop_statement;
