-- The identity-map rows a report asks for: one school year, optionally one resource, and a
-- search `q` that is a SIS key, an Ed-Fi id, a studentUniqueId, any value of the natural key
-- (as text or as a number) or a student's name (every word, any order; names come from the SIS).
SELECT im.*
  FROM edfi_sync.identity_map im
 WHERE im.end_year = %(school_year)s::integer
   AND (%(resource)s::text IS NULL OR im.resource = %(resource)s::text)
   AND (%(q)s::text IS NULL
        OR im.sis_object_key = %(q)s::text OR im.edfi_id = %(q)s::text OR im.student_unique_id = %(q)s::text
        OR edfi_sync.natural_key_values(im.natural_key) @> jsonb_build_array(%(q)s::text)
        OR (%(q_number)s::numeric IS NOT NULL
            AND edfi_sync.natural_key_values(im.natural_key) @> jsonb_build_array(%(q_number)s::numeric))
        OR im.student_unique_id = ANY (ARRAY(
               SELECT p.state_id FROM sis.person p
                WHERE cardinality(%(name_patterns)s::text[]) > 0
                  AND concat_ws(' ', p.first_name, p.middle_name, p.last_name) ILIKE ALL (%(name_patterns)s::text[]))))
