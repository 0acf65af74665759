-- The identity map stays true (SPEC §6.1): a record the Delete Tool deleted (or found gone) leaves
-- it, in every year that maps that record (one ODS serves them on a shared instance); the next run
-- sends it again if the SIS still yields it.
DELETE FROM edfi_sync.identity_map
 WHERE resource = %(resource)s AND edfi_id = %(edfi_id)s AND (end_year = %(end_year)s OR %(shared_instance)s)
RETURNING end_year, sis_object_key
