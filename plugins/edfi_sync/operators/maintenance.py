"""The operator of the edfi_sync_maintenance DAG: one retention step (see maintenance.retention).

The ages come from the Airflow Variable ``edfi_sync_retention`` (JSON; the defaults otherwise),
read when the task runs. Nothing heavy is imported at parse time.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import BaseOperator

TARGETS = ("stage", "runs", "errors", "xcom_files")
XCOM_BACKEND = "airflow.providers.common.io.xcom.backend.XComObjectStorageBackend"


class EdFiRetentionOperator(BaseOperator):
    """Prunes one kind of what runs leave behind: ``stage`` (staged and ODS rows), ``runs`` (the
    run ledger), ``errors`` (resolved error rows) or ``xcom_files`` (object-storage XCom files no
    XCom row references; it reads the rows through the ``edfi_airflow_db`` connection to Airflow's
    metadata database, and says so when that connection is not defined)."""

    ui_color = "#f3f0e8"

    def __init__(self, *, target: str, sis_conn_id: str = "edfi_sis", metadata_conn_id: str = "edfi_airflow_db",
                 **kwargs: Any):
        super().__init__(**kwargs)
        if target not in TARGETS:
            raise ValueError(f"target must be one of {TARGETS}, not {target!r}")
        self.target, self.sis_conn_id, self.metadata_conn_id = target, sis_conn_id, metadata_conn_id

    def execute(self, context) -> dict[str, Any]:
        from airflow.sdk import Variable

        from ..maintenance.retention import VARIABLE, Retention, RetentionPolicy

        policy = RetentionPolicy.from_setting(Variable.get(VARIABLE, default=None))
        if self.target == "xcom_files":
            return self._xcom_files(policy).as_dict()
        from ..hooks.sis import SisDatabaseHook

        retention = Retention(SisDatabaseHook(self.sis_conn_id).conninfo(), policy)
        pruned = {"stage": retention.prune_stage, "runs": retention.prune_runs,
                  "errors": retention.prune_errors}[self.target]()
        return pruned.as_dict()

    def _xcom_files(self, policy):
        from airflow.sdk import BaseHook, ObjectStoragePath
        from airflow.sdk.configuration import conf

        from ..connections import ConnSpec, postgres_conninfo
        from ..maintenance.retention import Pruned, cutoff, logged, prune_xcom_files, xcom_references

        location = conf.get("common.io", "xcom_objectstorage_path", fallback="")
        if conf.get("core", "xcom_backend", fallback="") != XCOM_BACKEND or not location:
            return logged(Pruned("XCom files", note="XCom values live in the database: no files"))
        try:
            meta = BaseHook.get_connection(self.metadata_conn_id)
        except Exception:  # noqa: BLE001 - the SDK raises its own not-found type
            return logged(Pruned("XCom files", note=(
                f"not pruned: define the connection {self.metadata_conn_id} (Airflow's metadata database, "
                f"read-only is enough) to know which files XCom rows reference")))
        conninfo = postgres_conninfo(ConnSpec(self.metadata_conn_id, meta.conn_type, meta.host, meta.port,
                                              meta.login, meta.password, meta.schema, meta.extra_dejson))
        base = ObjectStoragePath(location)
        referenced = xcom_references(conninfo, str(base))
        return prune_xcom_files(base, referenced, cutoff(policy.xcom_files_days))
