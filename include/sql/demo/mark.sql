WITH cleared AS (DELETE FROM edfi_sync.demo_data)
INSERT INTO edfi_sync.demo_data (seed, scale, school_year) VALUES (%(seed)s, %(scale)s, %(school_year)s)
