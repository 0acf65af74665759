-- SPEC §3: the SIS input contract. Names, types and foreign keys are fixed; columns other than
-- primary keys and flags stay nullable on purpose: dirty SIS data is reported, not refused.
CREATE SCHEMA IF NOT EXISTS sis;

CREATE TABLE sis.district (
    district_id integer PRIMARY KEY,
    name        text,
    number      text
);

CREATE TABLE sis.school (
    school_id   integer PRIMARY KEY,
    district_id integer REFERENCES sis.district (district_id),
    name        text,
    number      text,
    exclude     boolean NOT NULL DEFAULT false
);

CREATE TABLE sis.school_year (
    end_year   integer PRIMARY KEY,
    label      text,
    start_date date,
    end_date   date
);

CREATE TABLE sis.calendar (
    calendar_id integer PRIMARY KEY,
    school_id   integer REFERENCES sis.school (school_id),
    end_year    integer REFERENCES sis.school_year (end_year),
    name        text,
    start_date  date,
    end_date    date,
    exclude     boolean NOT NULL DEFAULT false
);

CREATE TABLE sis.term_schedule (
    term_schedule_id integer PRIMARY KEY,
    calendar_id      integer REFERENCES sis.calendar (calendar_id) ON DELETE CASCADE,
    name             text,
    is_primary       boolean NOT NULL DEFAULT false
);

CREATE TABLE sis.term (
    term_id          integer PRIMARY KEY,
    term_schedule_id integer REFERENCES sis.term_schedule (term_schedule_id) ON DELETE CASCADE,
    name             text,
    seq              integer,
    start_date       date,
    end_date         date
);

CREATE TABLE sis.person (
    person_id      integer PRIMARY KEY,
    state_id       text,
    student_number text,
    first_name     text,
    middle_name    text,
    last_name      text,
    birth_date     date,
    gender         text
);

CREATE TABLE sis.enrollment (
    enrollment_id integer PRIMARY KEY,
    person_id     integer REFERENCES sis.person (person_id),
    calendar_id   integer REFERENCES sis.calendar (calendar_id),
    grade         text,
    service_type  text,
    start_date    date,
    end_date      date,
    start_status  text,
    end_status    text,
    no_show       boolean NOT NULL DEFAULT false,
    state_exclude boolean NOT NULL DEFAULT false
);

CREATE TABLE sis.program (
    program_id    integer PRIMARY KEY,
    district_id   integer REFERENCES sis.district (district_id),
    kind          text,
    name          text,
    code          text,
    state_code    text,
    program_type  text,
    type_category text
);

CREATE TABLE sis.program_participation (
    participation_id integer PRIMARY KEY,
    person_id        integer REFERENCES sis.person (person_id),
    program_id       integer REFERENCES sis.program (program_id),
    start_date       date,
    end_date         date,
    student_status   text,
    non_traditional  boolean NOT NULL DEFAULT false
);

CREATE TABLE sis.program_participation_certification (
    certification_id   integer PRIMARY KEY,
    participation_id   integer REFERENCES sis.program_participation (participation_id) ON DELETE CASCADE,
    name               text,
    attempted          boolean NOT NULL DEFAULT false,
    passed             boolean NOT NULL DEFAULT false,
    certification_date date
);

-- Program areas (seed 001): one row per period a student is in the area.
CREATE TABLE sis.title1 (
    title1_id  integer PRIMARY KEY,
    person_id  integer REFERENCES sis.person (person_id),
    start_date date,
    end_date   date
);

CREATE TABLE sis.lep (
    lep_id     integer PRIMARY KEY,
    person_id  integer REFERENCES sis.person (person_id),
    start_date date,
    end_date   date
);

CREATE TABLE sis.migrant (
    migrant_id integer PRIMARY KEY,
    person_id  integer REFERENCES sis.person (person_id),
    start_date date,
    end_date   date
);

CREATE TABLE sis.homeless (
    homeless_id integer PRIMARY KEY,
    person_id   integer REFERENCES sis.person (person_id),
    start_date  date,
    end_date    date
);

CREATE TABLE sis.pos_eligibility (
    pos_eligibility_id integer PRIMARY KEY,
    person_id          integer REFERENCES sis.person (person_id),
    start_date         date,
    end_date           date,
    eligibility        text
);

CREATE TABLE sis.plan (
    plan_id    integer PRIMARY KEY,
    person_id  integer REFERENCES sis.person (person_id),
    start_date date,
    end_date   date,
    plan_type  text,
    locked     boolean NOT NULL DEFAULT false
);

CREATE TABLE sis.course (
    course_id          integer PRIMARY KEY,
    calendar_id        integer REFERENCES sis.calendar (calendar_id),
    number             text,
    name               text,
    edfi_term_override text
);

CREATE TABLE sis.section (
    section_id         integer PRIMARY KEY,
    course_id          integer REFERENCES sis.course (course_id) ON DELETE CASCADE,
    number             text,
    edfi_term_override text
);

CREATE TABLE sis.grading_score (
    score_id   integer PRIMARY KEY,
    section_id integer REFERENCES sis.section (section_id) ON DELETE CASCADE,
    person_id  integer REFERENCES sis.person (person_id),
    term_id    integer REFERENCES sis.term (term_id),
    score      text
);

CREATE TABLE sis.transcript_course (
    transcript_id      integer PRIMARY KEY,
    person_id          integer REFERENCES sis.person (person_id),
    school_id          integer REFERENCES sis.school (school_id),
    end_year           integer,
    course_number      text,
    course_name        text,
    score_id           integer REFERENCES sis.grading_score (score_id) ON DELETE SET NULL,
    edfi_term_override text,
    grade              text
);

CREATE TABLE sis.transcript_credit (
    transcript_credit_id integer PRIMARY KEY,
    transcript_id        integer REFERENCES sis.transcript_course (transcript_id) ON DELETE CASCADE,
    credits_attempted    numeric,
    credits_earned       numeric
);

CREATE TABLE sis.graduation (
    graduation_id integer PRIMARY KEY,
    person_id     integer REFERENCES sis.person (person_id),
    diploma_type  text,
    diploma_date  date
);

CREATE TABLE sis.cum_gpa (
    person_id integer PRIMARY KEY REFERENCES sis.person (person_id),
    cum_gpa   numeric
);

-- Indexes for the extract queries: every join below runs per resource per year.
CREATE INDEX ON sis.school (district_id);
CREATE INDEX ON sis.calendar (end_year, school_id);
CREATE INDEX ON sis.term_schedule (calendar_id);
CREATE INDEX ON sis.term (term_schedule_id);
CREATE INDEX ON sis.enrollment (calendar_id);
CREATE INDEX ON sis.enrollment (person_id);
CREATE INDEX ON sis.program (district_id);
CREATE INDEX ON sis.program_participation (person_id);
CREATE INDEX ON sis.program_participation (program_id);
CREATE INDEX ON sis.program_participation_certification (participation_id);
CREATE INDEX ON sis.title1 (person_id);
CREATE INDEX ON sis.lep (person_id);
CREATE INDEX ON sis.migrant (person_id);
CREATE INDEX ON sis.homeless (person_id);
CREATE INDEX ON sis.pos_eligibility (person_id);
CREATE INDEX ON sis.plan (person_id);
CREATE INDEX ON sis.course (calendar_id);
CREATE INDEX ON sis.section (course_id);
CREATE INDEX ON sis.grading_score (section_id);
CREATE INDEX ON sis.grading_score (person_id);
CREATE INDEX ON sis.grading_score (term_id);
CREATE INDEX ON sis.transcript_course (person_id);
CREATE INDEX ON sis.transcript_course (score_id);
CREATE INDEX ON sis.transcript_course (school_id);
CREATE INDEX ON sis.transcript_credit (transcript_id);
CREATE INDEX ON sis.graduation (person_id);
