-- What mark_parent_failed.sql looks for among a resource's parents: those this run did not stage
-- (%(parents)s: the resources its records reference), and whether any of their staged records
-- failed or was skipped. With neither (an unchanged run, most resources), no child can be set aside
-- and its whole stage need not be read. Index probes: run before the diff disables nested loops.
SELECT array(SELECT p FROM unnest(%(parents)s::text[]) p
              WHERE NOT EXISTS (SELECT 1 FROM edfi_sync.staged_record s
                                 WHERE s.run_id = %(run_id)s AND s.resource = p)) AS unstaged,
       EXISTS (SELECT 1 FROM edfi_sync.staged_record f
                WHERE f.run_id = %(run_id)s AND f.resource = ANY (%(parents)s::text[])
                  AND f.status IN ('failed', 'skipped', 'build_failed') AND f.natural_key_hash IS NOT NULL) AS failed
