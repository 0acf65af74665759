-- Take up to %(want)s free slots below the budget's size. A slot is an advisory lock (budget, slot):
-- exclusive across every backend, and freed with its session when a worker dies. The CASE keeps a
-- slot this sender already holds from being locked twice (advisory locks stack).
SELECT coalesce(array_agg(slot), '{}')
  FROM (SELECT slot FROM generate_series(0, %(size)s - 1) AS slot
         WHERE CASE WHEN slot = ANY (%(held)s::integer[]) THEN false
                    ELSE pg_try_advisory_lock(%(budget)s, slot) END
         LIMIT %(want)s) AS taken
