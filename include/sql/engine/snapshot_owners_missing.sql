-- Owners (resources named in mapping rows, plus those given) with no snapshot yet this year.
SELECT owner FROM (SELECT DISTINCT resource AS owner FROM edfi_sync.mapping WHERE end_year = %(end_year)s
                   UNION SELECT unnest(%(owners)s::text[])) o
 WHERE NOT EXISTS (SELECT 1 FROM edfi_sync.mapping_snapshot_taken t
                    WHERE t.end_year = %(end_year)s AND t.resource = o.owner)
