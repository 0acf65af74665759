-- Resync: map rows whose Ed-Fi id the ODS no longer has are dropped (and re-posted if the SIS
-- still yields them). A per-school resync drops only rows of its schools. A dry run only counts.
WITH missing AS (
    SELECT m.natural_key_hash FROM edfi_sync.identity_map m
     WHERE m.end_year = %(end_year)s AND m.resource = %(resource)s
       AND (%(schools)s::text[] IS NULL OR m.school_ids && %(schools)s::text[])
       AND NOT EXISTS (SELECT 1 FROM edfi_sync.ods_record o
                        WHERE o.run_id = %(run_id)s AND o.resource = m.resource AND o.edfi_id = m.edfi_id)
), dropped AS (
    DELETE FROM edfi_sync.identity_map d USING missing x
     WHERE NOT %(dry_run)s AND d.end_year = %(end_year)s AND d.resource = %(resource)s
       AND d.natural_key_hash = x.natural_key_hash
)
SELECT count(*) FROM missing
