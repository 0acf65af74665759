"""The DAG runs the actions start, and their state, through Airflow's own code in the api-server:
a run is triggered by the REST API's trigger (the DAG's params validated, the user's name on the
run, as the UI's Trigger button does); the pages that wait read the run's state. Every Ed-Fi
request is made by the run's task on a worker, never here (SPEC §6.1)."""

from __future__ import annotations

from datetime import datetime, timezone
from functools import lru_cache
from typing import Any

from airflow.api_fastapi.auth.managers.models.base_user import BaseUser
from fastapi import Request

from ..actions import audit
from . import database

TERMINAL = ("success", "failed")


@lru_cache(maxsize=1)
def _dag_bag():
    from airflow.api_fastapi.common.dagbag import create_dag_bag

    return create_dag_bag()


def new_run_id(action: str) -> str:
    """The id of an action's DAG run, chosen before it is triggered (the audit entry names it)."""
    return f"{action}__{datetime.now(timezone.utc).isoformat()}"


def start(request: Request, user: BaseUser, action: str, dag_id: str, conf: dict[str, Any],
          school_year: int | None, params: dict[str, Any] | None = None) -> int:
    """Trigger ``dag_id`` with ``conf`` and write the action's audit entry (``params``, else the
    conf) with the run's id, together: when Airflow refuses the run, no entry is left behind. The
    entry's id."""
    run_id = new_run_id(action)
    with database.connect(role=database.OPERATOR_ROLE) as conn, conn.transaction():
        audit_id = audit.record(conn, actor=user.get_name(), origin="ui", action=action, school_year=school_year,
                                params=params or conf, dag_id=dag_id, dag_run_id=run_id)
        trigger(request, user, dag_id, conf, run_id)
    return audit_id


def trigger(request: Request, user: BaseUser, dag_id: str, conf: dict[str, Any], run_id: str) -> str:
    """A manual run ``run_id`` of ``dag_id`` with ``conf``. An unknown DAG is a 404, a conf its
    params refuse a 400 (Airflow's own answers)."""
    from airflow.api_fastapi.core_api.datamodels.dag_run import TriggerDAGRunPostBody
    from airflow.api_fastapi.core_api.routes.public.dag_run import trigger_dag_run
    from airflow.utils.session import create_session

    with create_session() as session:
        run = trigger_dag_run(dag_id, TriggerDAGRunPostBody(dag_run_id=run_id, logical_date=None, conf=conf),
                              _dag_bag(), user, session, request)
        return run.run_id


def state(dag_id: str, run_id: str) -> str | None:
    """queued, running, success, failed (None: no such run)."""
    return states([(dag_id, run_id)]).get((dag_id, run_id))


def states(runs: list[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """(dag_id, run_id) -> the state of each of these DAG runs that exists."""
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session
    from sqlalchemy import select, tuple_

    if not runs:
        return {}
    with create_session() as session:
        rows = session.execute(select(DagRun.dag_id, DagRun.run_id, DagRun.state)
                               .where(tuple_(DagRun.dag_id, DagRun.run_id).in_(runs))).all()
    return {(dag_id, run_id): str(getattr(value, "value", value)) for dag_id, run_id, value in rows}


def paused(dag_id: str) -> bool:
    """A paused DAG keeps a triggered run queued: the pages say so."""
    from airflow.models.dag import DagModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        return bool(session.scalar(select(DagModel.is_paused).where(DagModel.dag_id == dag_id)))
