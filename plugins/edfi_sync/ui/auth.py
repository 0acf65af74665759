"""Who may see a page: an Airflow user (bearer token, or the UI's ``_token`` cookie) whom the
auth manager lets use a DAG. A plugin's FastAPI app gets no authentication from Airflow, so
every route depends on this.

``authorized("edfi_sync")`` guards the read pages; an action page passes the DAG it triggers and
the method it needs (``authorized("edfi_delete", "POST")``).
"""

from __future__ import annotations

from typing import Annotated, Any, Callable, Coroutine

from airflow.api_fastapi.app import get_auth_manager
from airflow.api_fastapi.auth.managers.models.base_user import BaseUser
from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity, DagDetails
from airflow.api_fastapi.core_api.security import get_user
from fastapi import Depends, HTTPException, status
from starlette.concurrency import run_in_threadpool


def _team(dag_id: str) -> str | None:
    from airflow.models.dag import DagModel

    return DagModel.get_team_name(dag_id)


def authorized(dag_id: str, method: str = "GET", access_entity: DagAccessEntity | None = None
               ) -> Callable[..., Coroutine[Any, Any, BaseUser]]:
    """A dependency returning the user when the auth manager lets them ``method`` the DAG
    ``dag_id``: 401 without a login (from ``get_user``), 403 when refused."""

    async def dependency(user: BaseUser = Depends(get_user)) -> BaseUser:
        team = await run_in_threadpool(_team, dag_id)
        allowed = get_auth_manager().is_authorized_dag(
            method=method, access_entity=access_entity, details=DagDetails(id=dag_id, team_name=team), user=user)
        if not allowed:
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"not allowed to {method} the DAG {dag_id}")
        return user

    return dependency


# The read pages (Error Log, Identity Mapping Report, Runs and Reconciliation) show what the edfi_sync DAG wrote.
ReadUser = Annotated[BaseUser, Depends(authorized("edfi_sync"))]
