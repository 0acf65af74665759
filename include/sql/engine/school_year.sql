-- School Year Setup of the scope year (may be missing: then the 07/01 - 06/30 defaults apply).
SELECT start_date, end_date FROM sis.school_year WHERE end_year = %(end_year)s
