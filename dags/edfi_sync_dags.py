"""The Airflow DAGs of SPEC §6, generated from the resource definitions (edfi_sync.resources):
`edfi_sync` (incremental, scheduled) and `edfi_sync_school_year` (one full resync per school year)."""

from edfi_sync.dag_factory import incremental_dag, school_year_dag

edfi_sync = incremental_dag()
edfi_sync_school_year = school_year_dag()
