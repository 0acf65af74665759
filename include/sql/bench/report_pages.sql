-- bench/report_pages.py: a connector database the size the operator pages must stay fast at,
-- shaped like the sync's own rows. Deterministic (setseed). Parameters: persons, errors, map_rows,
-- runs, resources (names), and codes/classes/causes/fixes (the error catalogue).
SELECT setseed(0.42);
SET maintenance_work_mem = '256MB';

INSERT INTO sis.person (person_id, state_id, student_number, first_name, last_name, birth_date)
SELECT g, (100000000 + mod(g * 7919, 899999999))::text, g::text,
       (ARRAY['Maria','Jose','Sofia','Daniel','Emma','Santiago','Lucia','Elijah','Harper','Adrian','Olivia','Mateo',
              'Ava','Diego','Isabella','Noah','Camila','Liam','Valentina','Ethan'])[1 + mod(g, 20)],
       (ARRAY['Garcia','Lopez','Martinez','Chavez','Sanchez','Romero','Baca','Trujillo','Lucero','Tafoya','Archuleta',
              'Salazar','Montoya','Gallegos','Vigil','Aragon','Tsosie','Begay','Yazzie','Brown','Smith','Jaramillo',
              'Padilla','Ortiz','Sandoval'])[1 + mod((g / 20), 25)],
       date '2008-01-01' + (mod(g, 3650))
  FROM generate_series(1, %(persons)s) g;

INSERT INTO edfi_sync.sync_run (run_id, end_year, origin, params, status, started_at, finished_at, dag_id, dag_run_id,
                                task_id)
SELECT dag_run || '__' || end_year, end_year, 'airflow', '{"resync": false, "dry_run": false}'::jsonb,
       CASE WHEN mod(g, 11) = 0 THEN 'success' ELSE 'record_errors' END, started, started + interval '4 minutes',
       'edfi_sync', dag_run, 'post.localEducationAgencies'
  FROM (SELECT g, CASE WHEN mod(g, 10) = 0 THEN 2024 ELSE 2025 END AS end_year,
               now() - (%(runs)s - g) * interval '30 minutes' AS started,
               'scheduled__' || to_char(now() - (%(runs)s - g) * interval '30 minutes', 'YYYY-MM-DD"T"HH24:MI:SS+00:00')
                   AS dag_run
          FROM generate_series(1, %(runs)s) g) r;

INSERT INTO edfi_sync.resource_run (run_id, end_year, resource, phase, status, counts, sis_count, ods_count, map_count,
                                    started_at, finished_at)
SELECT r.run_id, r.end_year, res.name, ph.phase, 'done',
       jsonb_build_object('extracted', 5000 + res.i * 10, 'unchanged', 4900, 'POST.ok', (random() * 80)::int,
                          'PUT.ok', (random() * 20)::int, 'POST.failed', (random() * 6)::int,
                          'build_failed', (random() * 3)::int),
       5000 + res.i * 10, CASE WHEN mod(res.i, 7) = 0 THEN 4990 + res.i * 10 END, 5000 + res.i * 10 - mod(res.i, 3),
       r.started_at, r.started_at + interval '10 seconds'
  FROM edfi_sync.sync_run r
 CROSS JOIN unnest(%(resources)s::text[]) WITH ORDINALITY AS res(name, i)
 CROSS JOIN (VALUES ('post'), ('delete')) ph(phase);

INSERT INTO edfi_sync.identity_map (end_year, resource, natural_key_hash, natural_key, sis_object_type, sis_object_key,
                                    edfi_id, payload_hash, student_unique_id, school_ids, first_sent_at, last_sent_at,
                                    last_status, last_run_id)
SELECT CASE WHEN mod(g, 5) = 0 THEN 2024 ELSE 2025 END,
       (%(resources)s::text[])[1 + mod(g, cardinality(%(resources)s::text[]))],
       md5('key' || g),
       jsonb_build_object(
           'studentReference', jsonb_build_object('studentUniqueId', p.state_id),
           'schoolReference', jsonb_build_object('schoolId', 355240000 + mod(g, 63)),
           'entryDate', (date '2024-08-01' + mod(g, 200))::text,
           'courseCode', 'C' || (mod(g, 900)),
           'termDescriptor', 'uri://ed-fi.org/TermDescriptor#' || (ARRAY['Fall Semester','Spring Semester','Year Round'])[1 + mod(g, 3)]),
       'record', g::text, md5('id' || g), md5('payload' || g), p.state_id, ARRAY[(355240000 + mod(g, 63))::text],
       now() - interval '40 days', now() - (mod(g, 40)) * interval '1 day', 200 + mod(g, 2),
       'scheduled__' || (mod(g, 1000))
  FROM generate_series(1, %(map_rows)s) g
  JOIN sis.person p ON p.person_id = 1 + mod(g, %(persons)s);

INSERT INTO edfi_sync.error_log (run_id, end_year, resource, sis_object_key, action, status, error_code, error_class,
                                 message, validation_errors, cause, fix, request_body, student_unique_id, student_name,
                                 school_id, created_at, last_seen_at, occurrences, resolved, resolved_at,
                                 resolved_by_run, resolved_reason, dag_id, task_id)
SELECT run.run_id, run.end_year, res, g::text, (ARRAY['POST','PUT','DELETE','BUILD'])[1 + mod(g, 4)], 400 + (mod(g, 4)) * 3,
       (%(codes)s::text[])[c], (%(classes)s::text[])[c],
       res || ' record: ' || (%(codes)s::text[])[c] || ' for SIS record ' || g || ' (value ' || md5(g::text) || ')',
       CASE WHEN mod(g, 3) = 0 THEN jsonb_build_array('studentReference.studentUniqueId: Field required') END,
       (%(causes)s::text[])[c], (%(fixes)s::text[])[c],
       jsonb_build_object('studentReference', jsonb_build_object('studentUniqueId', p.state_id),
                          'schoolReference', jsonb_build_object('schoolId', 355240000 + mod(g, 63)),
                          'entryDate', '2024-08-19', 'entryGradeLevelDescriptor',
                          'uri://ed-fi.org/GradeLevelDescriptor#Ninth grade'),
       p.state_id, p.first_name || ' ' || p.last_name, (355240000 + mod(g, 63))::text,
       run.started_at, run.started_at + (mod(g, 20)) * interval '30 minutes', 1 + mod(g, 20),
       mod(g, 10) >= 7, CASE WHEN mod(g, 10) >= 7 THEN run.started_at + interval '1 day' END,
       CASE WHEN mod(g, 10) >= 7 THEN run.run_id END,
       CASE WHEN mod(g, 10) = 9 THEN 'archived' WHEN mod(g, 10) >= 7 THEN 'sent' END,
       'edfi_sync', 'post.' || res
  FROM generate_series(1, %(errors)s) g
  JOIN sis.person p ON p.person_id = 1 + mod((g * 13), %(persons)s)
 CROSS JOIN LATERAL (SELECT (%(resources)s::text[])[1 + mod(g, cardinality(%(resources)s::text[]))] AS res,
                            1 + mod((g / 7), cardinality(%(codes)s::text[])) AS c) pick
 CROSS JOIN LATERAL (SELECT run_id, end_year, started_at FROM edfi_sync.sync_run
                      ORDER BY started_at DESC OFFSET mod(g, 50) LIMIT 1) run;
