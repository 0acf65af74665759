-- The child's map rows whose natural key embeds a marked parent's key (renamed to the child's
-- reference names): they must go before the parent can.
INSERT INTO edfi_sync.replace_pending (run_id, end_year, resource, partition, natural_key_hash)
SELECT DISTINCT p.run_id, c.end_year, c.resource, p.partition, c.natural_key_hash
  FROM edfi_sync.replace_pending p
  JOIN edfi_sync.identity_map pm
    ON pm.end_year = p.end_year AND pm.resource = p.resource AND pm.natural_key_hash = p.natural_key_hash
  JOIN edfi_sync.identity_map c
    ON c.end_year = p.end_year AND c.resource = %(child)s AND c.edfi_id IS NOT NULL
   AND c.natural_key @> (SELECT jsonb_object_agg(%(rename)s::jsonb ->> e.key, e.value)
                           FROM jsonb_each(pm.natural_key) e WHERE %(rename)s::jsonb ? e.key)
 WHERE p.run_id = %(run_id)s AND p.resource = %(parent)s AND p.partition = %(partition)s
ON CONFLICT DO NOTHING
