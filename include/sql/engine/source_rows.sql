-- The extracted rows to build: those not staged from the memo, in extract order.
SELECT e.*
  FROM extracted_source e
 WHERE NOT EXISTS (SELECT 1 FROM reused_source r WHERE r.source_seq = e.source_seq)
 ORDER BY e.source_seq
