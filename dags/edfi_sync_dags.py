"""The Airflow DAGs of SPEC §6, generated from the resource definitions (edfi_sync.resources):
`edfi_sync` (incremental, scheduled), `edfi_sync_school_year` (one full resync per school year),
`edfi_sync_maintenance` (retention, daily) and `edfi_delete` (the Delete Tool, SPEC §6.1, triggered
by its page)."""

from edfi_sync.dag_factory import delete_dag, incremental_dag, maintenance_dag, school_year_dag

edfi_sync = incremental_dag()
edfi_sync_school_year = school_year_dag()
edfi_sync_maintenance = maintenance_dag()
edfi_delete = delete_dag()
