-- True when the sis schema holds data demo-data did not write (a real SIS, or a fixture).
SELECT EXISTS (SELECT 1 FROM sis.person) AND NOT EXISTS (SELECT 1 FROM edfi_sync.demo_data)
