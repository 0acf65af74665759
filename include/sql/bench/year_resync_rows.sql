-- bench/retention_year.py: the ODS rows a resync leaves behind (an Airflow run never clears them),
-- copied from a real resync run under a simulated run's id.
INSERT INTO edfi_sync.ods_record (run_id, end_year, resource, edfi_id, natural_key_hash, natural_key, school_ids)
SELECT %(run_id)s, end_year, resource, edfi_id, natural_key_hash, natural_key, school_ids
  FROM edfi_sync.ods_record WHERE run_id = %(source)s
