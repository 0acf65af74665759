INSERT INTO edfi_sync.delete_plan_record (plan_id, seq, resource, edfi_id, natural_key, role, depends_on, depth,
                                          in_identity_map, sis_object_key, student_unique_id, action, reason)
VALUES (%(plan_id)s, %(seq)s, %(resource)s, %(edfi_id)s, %(natural_key)s, %(role)s, %(depends_on)s, %(depth)s,
        %(in_identity_map)s, %(sis_object_key)s, %(student_unique_id)s, %(action)s, %(reason)s)
