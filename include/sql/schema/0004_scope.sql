-- The year's scoped enrollments (SPEC §7 "Common"): overlapping the school year and not excluded
-- by no-show, calendar exclude, school exclude or state exclude. Every student-level extract
-- starts here, so the exclusion rule lives in one place.
CREATE FUNCTION edfi_sync.scoped_enrollment(p_end_year integer, p_year_start date, p_year_end date)
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
$$;
