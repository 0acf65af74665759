-- Airflow's metadata database: the XCom values that name a file under the object-storage path
-- (the backend keeps the file's URL in the row).
SELECT value::jsonb #>> '{}' FROM xcom WHERE starts_with(value::jsonb #>> '{}', %(prefix)s)
