"""The ``preflight`` task of the sync DAGs (SPEC §6.1): the first task, checking each school year
of the run against the ODS before anything is sent (see :mod:`edfi_sync.preflight.run`).

The ``preflight`` param false makes it succeed without checking. It fails only what would make
the run pointless; every other finding is a log line with its fix and goes into its XCom summary.
"""

from __future__ import annotations

import logging
from typing import Any, Sequence

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowException, AirflowFailException

from ..connections import as_bool
from .sync import enabled_years, resource_names, run_years

log = logging.getLogger(__name__)

LOG_LEVELS = {"fatal": logging.ERROR, "warning": logging.WARNING, "info": logging.INFO}
# An ODS that does not answer, or refuses a token, may come back: those are retried.
RETRYABLE_CHECKS = {"ods", "credentials"}


class EdFiPreflightOperator(BaseOperator):
    template_fields: Sequence[str] = ("school_years", "selected_resources", "resync", "preflight")
    ui_color = "#fdf6e3"

    def __init__(self, *, school_years: Any = "{{ params.school_years }}",
                 selected_resources: Any = "{{ params.resources }}", resync: Any = "{{ params.resync }}",
                 preflight: Any = "{{ params.preflight }}", year_from_interval: bool = False,
                 sis_conn_id: str = "edfi_sis", **kwargs: Any):
        super().__init__(**kwargs)
        self.school_years, self.selected_resources = school_years, selected_resources
        self.resync, self.preflight = resync, preflight
        self.year_from_interval, self.sis_conn_id = year_from_interval, sis_conn_id

    def execute(self, context) -> dict[str, Any]:
        summary: dict[str, Any] = {"dag_run_id": context["run_id"], "years": []}
        if not as_bool(self.preflight, True):
            log.info("preflight: the preflight param is false; no checks")
            return {**summary, "status": "not_checked"}
        from ..engine.runner import SyncOptions
        from ..hooks.sis import SisDatabaseHook
        from ..preflight.run import FINDINGS_IN_SUMMARY, run_preflight

        conninfo = SisDatabaseHook(self.sis_conn_id).conninfo()
        years = run_years(self.school_years, self.year_from_interval, context) or enabled_years(conninfo)
        if not years:
            log.info("preflight: no school year has an enabled Ed-Fi connection; nothing to check")
            return {**summary, "status": "out_of_scope"}
        options = SyncOptions(resources=resource_names(self.selected_resources), resync=bool(as_bool(self.resync)))
        fatal = []
        for year in years:
            report = run_preflight(year, options, conninfo=conninfo)
            log.log(logging.ERROR if report.fatal else logging.INFO, "%s", report.headline())
            for finding in report.findings:
                log.log(LOG_LEVELS[finding.level], "%s", finding.line())
            summary["years"].append(report.as_dict(limit=FINDINGS_IN_SUMMARY))
            fatal += report.fatal
        if fatal:
            message = "preflight: the run would be pointless: " + "; ".join(f.message for f in fatal)
            if {f.check for f in fatal} <= RETRYABLE_CHECKS:
                raise AirflowException(message)
            raise AirflowFailException(message)
        statuses = {year["status"] for year in summary["years"]}
        return {**summary, "status": "warnings" if "warnings" in statuses else "clean"}
