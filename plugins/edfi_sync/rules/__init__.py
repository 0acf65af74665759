"""Business rules as pure functions: no Airflow, no database. Each takes SIS values and returns Ed-Fi values."""
