-- For the rest of this transaction: no nested-loop joins. The diff's statements join a run's
-- staged rows (thousands to millions) with the identity map, the memo and each other; a table the
-- planner's statistics still take for nearly empty (rows copied a moment ago) made it nest loops
-- over re-executed aggregates: minutes for 900 records. Hash joins are linear whatever it believes.
SET LOCAL enable_nestloop = off
