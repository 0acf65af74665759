-- One action of the audit trail (the pages write it as edfi_sync_operator, which may do only this).
INSERT INTO edfi_sync.audit_log (actor, origin, action, school_year, params, dag_id, dag_run_id, outcome, result)
VALUES (%(actor)s, %(origin)s, %(action)s, %(school_year)s, %(params)s, %(dag_id)s, %(dag_run_id)s, %(outcome)s,
        %(result)s)
RETURNING audit_id
