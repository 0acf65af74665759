INSERT INTO edfi_sync.connection (end_year, conn_id, enabled)
VALUES (%(end_year)s, %(conn_id)s, %(enabled)s)
ON CONFLICT (end_year) DO UPDATE SET conn_id = excluded.conn_id, enabled = excluded.enabled;
