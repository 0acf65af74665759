-- The resource's extract (an include/sql/extract/ file, composed in below) kept for this transaction, each
-- row with its place (source_seq) and the digest of its values: a row whose digest the last stage
-- saw need not be built again (stage_memo).
CREATE TEMP TABLE extracted_source ON COMMIT DROP AS
SELECT row_number() OVER () AS source_seq, md5(src::text) AS source_digest, src.*
  FROM (
{extract}
) src
