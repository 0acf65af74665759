"""The operator of the DAG ``edfi_delete``: the Delete Tool (SPEC §6.1) as one task, driven by the
run's conf (the Delete Tool page triggers it). Without ``plan``, a preview of ``targets`` whose plan
id is the DAG run id; with ``plan``, a run of that stored plan. The tool is imported when the task
runs, never when the DAG file is parsed."""

from __future__ import annotations

import logging
from typing import Any, Sequence

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowFailException

from .sync import _items

log = logging.getLogger(__name__)


class EdFiDeleteToolOperator(BaseOperator):
    """Preview ``targets`` ([{"resource", "key"} | {"resource", "id"}]) in ``school_year``'s ODS, or
    run ``plan``; returns the plan's id, state and counts."""

    template_fields: Sequence[str] = ("school_year", "targets", "plan")
    ui_color = "#fdecea"

    def __init__(self, *, school_year: Any = "{{ params.school_year }}", targets: Any = "{{ params.targets }}",
                 plan: Any = "{{ params.plan }}", sis_conn_id: str = "edfi_sis", **kwargs: Any):
        super().__init__(**kwargs)
        self.school_year, self.targets, self.plan = school_year, targets, plan
        self.sis_conn_id = sis_conn_id

    def execute(self, context) -> dict[str, Any]:
        from ..deletion import tool
        from ..deletion.cli import plan_lines
        from ..deletion.plan import BadTarget, Target, checked
        from ..engine.runner import OutOfScope
        from ..hooks.client import EdFiUnavailable
        from ..hooks.sis import SisDatabaseHook

        conninfo = SisDatabaseHook(self.sis_conn_id).conninfo()
        try:
            year = int(self.school_year)
            if self.plan:
                plan = tool.execute(year, str(self.plan), run_id=context["run_id"], conninfo=conninfo)
            else:
                targets = checked(Target.from_dict(item) for item in _items(self.targets))
                plan = tool.preview(year, targets, plan_id=context["run_id"], conninfo=conninfo)
        except (TypeError, ValueError) as exc:  # BadTarget is a ValueError
            raise AirflowFailException(f"the conf cannot be used: {exc}") from exc
        except (tool.PlanRefused, OutOfScope, EdFiUnavailable) as exc:  # a retry cannot help
            raise AirflowFailException(str(exc)) from exc
        log.info("delete plan %s, school year %s (%s):\n%s", plan.plan_id, year, plan.status,
                 "\n".join(plan_lines(plan)))
        return {"plan_id": plan.plan_id, "school_year": year, "status": plan.status, "counts": plan.counts()}
