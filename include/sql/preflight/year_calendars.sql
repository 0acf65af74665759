-- How many schools have a (not excluded) calendar in the school year.
SELECT count(DISTINCT school_id) FROM sis.calendar WHERE end_year = %(end_year)s AND NOT exclude
