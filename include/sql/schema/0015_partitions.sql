-- SPEC §6.1 scale-out: the post step of a student-level resource may run as N partitions at once,
-- split by a hash of the student; each partition stages, records and is checked on its own, and
-- every task that sends to one ODS shares one in-flight budget.

-- The partition of a student: a hash of the studentUniqueId, which every student-level natural key
-- embeds, so a student's records (SARs and transcripts included) and any two SIS rows that make one
-- natural key always land in one partition. A missing id (a record that cannot be built) counts as ''.
CREATE FUNCTION edfi_sync.student_partition(student_unique_id text, partitions integer)
RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT mod(hashtext(coalesce(student_unique_id, ''))::bigint + 2147483648, partitions)::integer
$$;

-- A partition's extract reads only its students (SPEC §6.1: N partitions together cost about one
-- whole extract): every student-level extract starts from the scoped enrollments, which take the
-- partition (0 of 1, the default, is everyone). academic_record_student passes it on.
DROP FUNCTION edfi_sync.academic_record_student(integer, date, date);
DROP FUNCTION edfi_sync.scoped_enrollment(integer, date, date);

CREATE FUNCTION edfi_sync.scoped_enrollment(p_end_year integer, p_year_start date, p_year_end date,
                                            p_partition integer DEFAULT 0, p_partitions integer DEFAULT 1)
RETURNS TABLE (
    enrollment_id integer, person_id integer, calendar_id integer, school_id integer,
    school_number text, district_id integer, grade text, service_type text,
    start_date date, end_date date, end_status text
)
LANGUAGE sql STABLE AS $$
    SELECT e.enrollment_id, e.person_id, e.calendar_id, s.school_id, s.number, s.district_id,
           e.grade, e.service_type, e.start_date, e.end_date, e.end_status
      FROM sis.enrollment e
      JOIN sis.calendar c ON c.calendar_id = e.calendar_id
      JOIN sis.school s ON s.school_id = c.school_id
     WHERE c.end_year = p_end_year
       AND NOT e.no_show AND NOT e.state_exclude AND NOT c.exclude AND NOT s.exclude
       AND (e.start_date IS NULL OR e.start_date <= p_year_end)
       AND (e.end_date IS NULL OR e.end_date >= p_year_start)
       -- Planned away for the whole (1 partition): the function is inlined with its arguments.
       AND (p_partitions = 1
            OR edfi_sync.student_partition((SELECT p.state_id FROM sis.person p WHERE p.person_id = e.person_id),
                                           p_partitions) = p_partition)
$$;

CREATE FUNCTION edfi_sync.academic_record_student(p_end_year integer, p_year_start date, p_year_end date,
                                                  p_partition integer DEFAULT 0, p_partitions integer DEFAULT 1)
RETURNS TABLE (
    person_id integer, state_id text, first_name text, last_name text, school_numbers text[],
    enrollments jsonb, graduations jsonb, transcripts jsonb, cum_gpa numeric
)
LANGUAGE sql STABLE AS $$
    WITH scoped AS (
        SELECT se.*, d.number AS district_number
          FROM edfi_sync.scoped_enrollment(p_end_year, p_year_start, p_year_end, p_partition, p_partitions) se
          LEFT JOIN sis.district d ON d.district_id = se.district_id
    ), candidate AS (
        SELECT DISTINCT s.person_id FROM scoped s
         WHERE s.service_type = 'P' AND s.end_date IS NOT NULL
            OR EXISTS (SELECT 1 FROM sis.graduation g WHERE g.person_id = s.person_id)
    ), primary_term AS (
        -- The terms of a calendar's primary schedules (case 4 reads those of the student's school).
        SELECT ts.calendar_id, jsonb_agg(jsonb_build_object(
                   'term_id', t.term_id, 'term_schedule_id', t.term_schedule_id, 'name', t.name, 'seq', t.seq,
                   'start_date', t.start_date, 'end_date', t.end_date) ORDER BY t.term_id) AS terms
          FROM sis.term_schedule ts
          JOIN sis.term t ON t.term_schedule_id = ts.term_schedule_id
         WHERE ts.is_primary
         GROUP BY ts.calendar_id
    ), enrollment AS (
        SELECT s.person_id, array_agg(DISTINCT s.school_number) FILTER (WHERE s.school_number IS NOT NULL) AS schools,
               jsonb_agg(jsonb_build_object(
                   'enrollment_id', s.enrollment_id, 'school_number', s.school_number,
                   'district_number', s.district_number, 'service_type', s.service_type,
                   'start_date', s.start_date, 'end_date', s.end_date, 'end_status', s.end_status,
                   'terms', coalesce(pt.terms, '[]'::jsonb)) ORDER BY s.enrollment_id) AS enrollments
          FROM scoped s
          JOIN candidate c ON c.person_id = s.person_id
          LEFT JOIN primary_term pt ON pt.calendar_id = s.calendar_id
         GROUP BY s.person_id
    ), credit AS (
        SELECT transcript_id, sum(credits_attempted) AS attempted, sum(credits_earned) AS earned
          FROM sis.transcript_credit GROUP BY transcript_id
    ), transcript AS (
        SELECT tc.person_id, jsonb_agg(jsonb_build_object(
                   'transcript_id', tc.transcript_id, 'end_year', tc.end_year, 'course_number', tc.course_number,
                   'course_name', tc.course_name, 'grade', tc.grade, 'score_id', tc.score_id,
                   'transcript_override', tc.edfi_term_override, 'course_override', co.edfi_term_override,
                   'section_override', sec.edfi_term_override, 'score_term', st.name,
                   'aligned_term', aligned.name, 'has_credit', cr.transcript_id IS NOT NULL,
                   'credits_attempted', cr.attempted, 'credits_earned', cr.earned) ORDER BY tc.transcript_id)
                   AS transcripts
          FROM sis.transcript_course tc
          JOIN candidate c ON c.person_id = tc.person_id
          LEFT JOIN sis.grading_score gs ON gs.score_id = tc.score_id
          LEFT JOIN sis.section sec ON sec.section_id = gs.section_id
          LEFT JOIN sis.course co ON co.course_id = sec.course_id
          LEFT JOIN sis.term st ON st.term_id = gs.term_id
          LEFT JOIN sis.term_schedule sts ON sts.term_schedule_id = st.term_schedule_id
          LEFT JOIN sis.calendar scal ON scal.calendar_id = sts.calendar_id
          -- Case 2 (a scored row of another year): the term of the configured year with the same seq,
          -- in the primary schedule of the same school (highest term_schedule_id when several).
          LEFT JOIN LATERAL (
                SELECT ys.term_schedule_id
                  FROM sis.calendar yc
                  JOIN sis.term_schedule ys ON ys.calendar_id = yc.calendar_id AND ys.is_primary
                 WHERE yc.school_id = coalesce(tc.school_id, scal.school_id) AND yc.end_year = p_end_year
                   AND NOT yc.exclude
                 ORDER BY ys.term_schedule_id DESC
                 LIMIT 1) ysched ON tc.end_year <> p_end_year AND gs.score_id IS NOT NULL
          LEFT JOIN LATERAL (
                SELECT t.name FROM sis.term t
                 WHERE t.term_schedule_id = ysched.term_schedule_id AND t.seq = st.seq
                 ORDER BY t.term_id DESC
                 LIMIT 1) aligned ON true
          LEFT JOIN credit cr ON cr.transcript_id = tc.transcript_id
         WHERE tc.end_year <= p_end_year
         GROUP BY tc.person_id
    )
    SELECT p.person_id, p.state_id, p.first_name, p.last_name, e.schools, e.enrollments,
           coalesce((SELECT jsonb_agg(jsonb_build_object('graduation_id', g.graduation_id,
                                                         'diploma_type', g.diploma_type,
                                                         'diploma_date', g.diploma_date) ORDER BY g.graduation_id)
                       FROM sis.graduation g WHERE g.person_id = p.person_id), '[]'::jsonb),
           coalesce(t.transcripts, '[]'::jsonb), gpa.cum_gpa
      FROM enrollment e
      JOIN sis.person p ON p.person_id = e.person_id
      LEFT JOIN transcript t ON t.person_id = e.person_id
      LEFT JOIN sis.cum_gpa gpa ON gpa.person_id = e.person_id
$$;

-- The partition is part of the stage's key: partitions of one run never clear, overwrite or send
-- each other's rows. An unpartitioned step is partition 0 of 1.
ALTER TABLE edfi_sync.staged_record ADD COLUMN partition integer NOT NULL DEFAULT 0;
ALTER TABLE edfi_sync.staged_record DROP CONSTRAINT staged_record_pkey;
ALTER TABLE edfi_sync.staged_record ADD PRIMARY KEY (run_id, resource, partition, seq);

-- and of the ledger's: delete.X needs the stage fingerprint of every partition of post.X.
ALTER TABLE edfi_sync.resource_run
    ADD COLUMN partition  integer NOT NULL DEFAULT 0,
    ADD COLUMN partitions integer NOT NULL DEFAULT 1;
ALTER TABLE edfi_sync.resource_run
    ADD CONSTRAINT resource_run_partition CHECK (partitions >= 1 AND partition >= 0 AND partition < partitions);
ALTER TABLE edfi_sync.resource_run DROP CONSTRAINT resource_run_pkey;
ALTER TABLE edfi_sync.resource_run ADD PRIMARY KEY (run_id, resource, phase, partition);

-- A step as the reports see it: its partitions merged (one row for a step run whole). It is done
-- and finished once every partition is; counts and SIS counts add up; the map count is the last
-- partition's (taken when it ended); only a step run whole takes an ODS count. An attempt with
-- another partition count (EDFI_SYNC_PARTITIONS changed between retries) is a step of its own.
CREATE VIEW edfi_sync.resource_step AS
SELECT r.run_id, r.end_year, r.resource, r.phase, r.partitions,
       CASE WHEN count(*) FILTER (WHERE r.status = 'done') = r.partitions THEN 'done'
            ELSE (array_agg(r.status ORDER BY r.status = 'done', r.started_at DESC))[1] END AS status,
       (SELECT coalesce(jsonb_object_agg(k.key, k.total), '{}'::jsonb)
          FROM (SELECT c.key, sum(c.value::bigint) AS total
                  FROM edfi_sync.resource_run p, jsonb_each_text(p.counts) c
                 WHERE p.run_id = r.run_id AND p.resource = r.resource AND p.phase = r.phase
                   AND p.partitions = r.partitions
                 GROUP BY c.key) k) AS counts,
       sum(r.sis_count)::integer AS sis_count, max(r.ods_count) AS ods_count,
       (array_agg(r.map_count ORDER BY r.finished_at DESC NULLS LAST))[1] AS map_count,
       min(r.started_at) AS started_at,
       CASE WHEN count(r.finished_at) = r.partitions THEN max(r.finished_at) END AS finished_at
  FROM edfi_sync.resource_run r
 GROUP BY r.run_id, r.end_year, r.resource, r.phase, r.partitions;

-- A partition's replacements (seed 004's DELETE/POST) are its own.
ALTER TABLE edfi_sync.replace_pending ADD COLUMN partition integer NOT NULL DEFAULT 0;

-- max_in_flight 'auto': the limit found so far for an Ed-Fi connection (keyed like the token
-- cache), shared by every process that sends to it. A fixed max_in_flight needs no row.
CREATE TABLE edfi_sync.send_budget (
    budget_key      text        PRIMARY KEY,
    in_flight_limit integer     NOT NULL CHECK (in_flight_limit >= 1),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
