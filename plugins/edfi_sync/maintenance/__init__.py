"""Keeping the connector database from growing forever: retention (the edfi_sync_maintenance DAG)."""
