-- One district, one school, %(students)s students with one enrollment each: a single resource
-- (students) of any size, for the memory figure.
INSERT INTO sis.district VALUES (1, 'Bench District', '3500100');
INSERT INTO sis.school (school_id, district_id, name, number, exclude) VALUES (10, 1, 'Bench High', '350010001', false);
INSERT INTO sis.school_year VALUES (2025, '2024-25', NULL, NULL);
INSERT INTO sis.calendar (calendar_id, school_id, end_year, name, start_date, end_date)
VALUES (100, 10, 2025, 'Bench 24-25', '2024-08-12', '2025-05-23');
INSERT INTO sis.person (person_id, state_id, student_number, first_name, last_name, birth_date)
SELECT n, (100000000 + n)::text, 'S' || n, 'First' || n, 'Last' || n, date '2008-01-01' + n %% 1000
  FROM generate_series(1, %(students)s) n;
INSERT INTO sis.enrollment (enrollment_id, person_id, calendar_id, grade, service_type, start_date)
SELECT n, n, 100, '10', 'P', '2024-08-12' FROM generate_series(1, %(students)s) n;
INSERT INTO edfi_sync.connection (end_year, conn_id, enabled) VALUES (2025, 'edfi_api', true);
INSERT INTO edfi_sync.mapping VALUES
    (2025, 'studentSchoolAssociations', 'grade_level', '10', 'uri://ed-fi.org/GradeLevelDescriptor', 'Tenth grade');
