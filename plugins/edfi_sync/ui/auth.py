"""Who may see a page: an Airflow user (bearer token, or the UI's ``_token`` cookie) whom the
auth manager lets use a DAG. A plugin's FastAPI app gets no authentication from Airflow, so
every route depends on this.

``authorized("edfi_sync")`` guards the read pages; an action needs the right to trigger the DAG
it starts (POST on its runs): ``SyncUser`` for archive, retry and resync (``edfi_sync``),
``DeleteUser`` for the Delete Tool (``edfi_delete``). Airflow's viewers get 403 on each.
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
        if not await run_in_threadpool(may, user, dag_id, method, access_entity):
            what = f"trigger the DAG {dag_id}" if (method, access_entity) == ("POST", DagAccessEntity.RUN) \
                else f"{method} the DAG {dag_id}"
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"not allowed to {what}")
        return user

    return dependency


def may(user: BaseUser, dag_id: str, method: str = "POST",
        access_entity: DagAccessEntity | None = DagAccessEntity.RUN) -> bool:
    """Whether the auth manager lets ``user`` ``method`` the DAG (by default: trigger it); the pages
    show an action's form only to those it lets (it reads the database: call it off the event loop)."""
    team = _team(dag_id)
    return get_auth_manager().is_authorized_dag(
        method=method, access_entity=access_entity, details=DagDetails(id=dag_id, team_name=team), user=user)


# The read pages (Error Log, Identity Mapping Report, Runs and Reconciliation) show what the edfi_sync DAG wrote.
ReadUser = Annotated[BaseUser, Depends(authorized("edfi_sync"))]
# The actions: the right to trigger the DAG each starts.
SyncUser = Annotated[BaseUser, Depends(authorized("edfi_sync", "POST", DagAccessEntity.RUN))]
DeleteUser = Annotated[BaseUser, Depends(authorized("edfi_delete", "POST", DagAccessEntity.RUN))]
