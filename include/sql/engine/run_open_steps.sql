-- Steps of a run's plan (toggled-OFF resources aside) that have not finished: none left means
-- the run is over (Airflow: its tasks finish in any order, the last one closes the ledger). A
-- partitioned step has finished when every one of its partitions has.
SELECT count(*) FROM unnest(%(resources)s::text[], %(phases)s::text[]) AS p(resource, phase)
 WHERE coalesce((SELECT t.enabled FROM edfi_sync.resource_toggle t
                  WHERE t.end_year = %(end_year)s AND t.resource = p.resource), true)
   AND NOT EXISTS (SELECT 1 FROM edfi_sync.resource_run r
                    WHERE r.run_id = %(run_id)s AND r.resource = p.resource AND r.phase = p.phase
                      AND r.finished_at IS NOT NULL
                    GROUP BY r.partitions
                   HAVING count(*) = r.partitions)
