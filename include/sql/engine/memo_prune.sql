-- Forget rows the SIS no longer yields, and everything built under another context.
DELETE FROM edfi_sync.stage_memo m
 WHERE m.end_year = %(end_year)s AND m.resource = %(resource)s
   AND (m.context <> %(context)s
        OR NOT EXISTS (SELECT 1 FROM extracted_source e WHERE e.source_digest = m.source_digest))
