-- bench/report_pages.py: real values to search for (a student with errors, an identity-map row, the
-- latest run).
SELECT e.student_unique_id, e.student_name, e.error_id, m.edfi_id, m.sis_object_key,
       m.student_unique_id AS map_student, r.run_id
  FROM (SELECT * FROM edfi_sync.error_log ORDER BY error_id LIMIT 1) e,
       (SELECT * FROM edfi_sync.identity_map WHERE end_year = 2025 ORDER BY natural_key_hash LIMIT 1) m,
       (SELECT run_id FROM edfi_sync.sync_run ORDER BY started_at DESC LIMIT 1) r
