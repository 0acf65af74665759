"""`edfi-sync airflow rerun`: rerun one resource of one DAG run through Airflow's REST API (SPEC §6).

`airflow tasks clear` matches task ids by substring and its date filters miss manually triggered
runs (logical date null); the REST clear call names the run and the exact task ids, so it works
for scheduled, manual and backfill runs alike.

Exit status: 0 the rerun succeeded (or was queued, without --wait); 1 it failed (or did not end
within --timeout); 2 Airflow unreachable or login refused; 3 nothing matched.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from urllib.parse import quote

import requests

PHASES = ("post", "update", "delete")
TERMINAL = {"success", "failed", "upstream_failed", "skipped", "removed"}


class Unreachable(Exception):
    """Exit 2: Airflow cannot be reached, or refuses the login."""


class NothingMatched(Exception):
    """Exit 3."""


class AirflowApi:
    def __init__(self, base_url: str, username: str | None, password: str | None, timeout: float = 30):
        self.base = base_url.rstrip("/")
        self.http = requests.Session()
        self.timeout = timeout
        if username:
            response = self._call("POST", "/auth/token", json={"username": username, "password": password or ""})
            if response.status_code not in (200, 201):
                raise Unreachable(f"Airflow refused the login of {username!r} ({response.status_code})")
            self.http.headers["Authorization"] = f"Bearer {response.json()['access_token']}"

    def _call(self, method: str, path: str, **kwargs) -> requests.Response:
        try:
            return self.http.request(method, self.base + path, timeout=self.timeout, **kwargs)
        except requests.RequestException as exc:
            raise Unreachable(f"Airflow is unreachable at {self.base}: {type(exc).__name__}") from exc

    def get(self, path: str, **kwargs) -> dict | None:
        """The JSON body; None on 404."""
        response = self._call("GET", "/api/v2" + path, **kwargs)
        return self._body(response)

    def post(self, path: str, body: dict) -> dict | None:
        return self._body(self._call("POST", "/api/v2" + path, json=body))

    def patch(self, path: str, body: dict) -> dict | None:
        return self._body(self._call("PATCH", "/api/v2" + path, json=body))

    @staticmethod
    def _body(response: requests.Response) -> dict | None:
        if response.status_code == 404:
            return None
        if response.status_code in (401, 403):
            raise Unreachable(f"Airflow refused the request ({response.status_code}): set "
                              f"EDFI_SYNC_AIRFLOW_USER and EDFI_SYNC_AIRFLOW_PASSWORD")
        response.raise_for_status()
        return response.json()


def rerun(api: AirflowApi, dag_id: str, run_id: str, resource: str, downstream: bool) -> list[str]:
    """Clear the resource's tasks of the run (and, on request, everything downstream of them);
    returns the task ids cleared."""
    dag, run = quote(dag_id, safe=""), quote(run_id, safe="")
    if api.get(f"/dags/{dag}/dagRuns/{run}") is None:
        raise NothingMatched(f"no run {run_id!r} of DAG {dag_id!r}")
    tasks = api.get(f"/dags/{dag}/tasks") or {"tasks": []}
    task_ids = [t["task_id"] for t in tasks["tasks"] if t["task_id"] in {f"{p}.{resource}" for p in PHASES}]
    if not task_ids:
        raise NothingMatched(f"DAG {dag_id!r} has no task of resource {resource!r}")
    cleared = api.post(f"/dags/{dag}/clearTaskInstances", {
        "dag_run_id": run_id, "task_ids": task_ids, "include_downstream": downstream,
        "include_upstream": False, "only_failed": False, "reset_dag_runs": True, "dry_run": False})
    ids = sorted({ti["task_id"] for ti in (cleared or {}).get("task_instances", [])})
    if not ids:
        raise NothingMatched(f"run {run_id!r} has no task instance of {', '.join(task_ids)}")
    return ids


def wait(api: AirflowApi, dag_id: str, run_id: str, task_ids: list[str], timeout: float,
         poll: float = 2.0) -> dict[str, str]:
    """The final state of each cleared task (None for those still going at the timeout)."""
    path = f"/dags/{quote(dag_id, safe='')}/dagRuns/{quote(run_id, safe='')}/taskInstances"
    deadline = time.monotonic() + timeout
    while True:
        states = {ti["task_id"]: ti["state"] for ti in (api.get(path, params={"limit": 1000}) or {}).get(
            "task_instances", []) if ti["task_id"] in task_ids}
        if all(states.get(t) in TERMINAL for t in task_ids) or time.monotonic() > deadline:
            return {t: states.get(t) for t in task_ids}
        time.sleep(poll)


def main(args: argparse.Namespace) -> int:
    try:
        api = AirflowApi(args.airflow_url, os.environ.get("EDFI_SYNC_AIRFLOW_USER"),
                         os.environ.get("EDFI_SYNC_AIRFLOW_PASSWORD"))
        task_ids = rerun(api, args.dag_id, args.run_id, args.resource, args.downstream)
        print(f"cleared in {args.run_id}: {', '.join(task_ids)}")
        if not args.wait:
            return 0
        states = wait(api, args.dag_id, args.run_id, task_ids, args.timeout)
    except Unreachable as exc:
        print(f"rerun failed: {exc}", file=sys.stderr)
        return 2
    except NothingMatched as exc:
        print(f"nothing to rerun: {exc}", file=sys.stderr)
        return 3
    for task_id, state in states.items():
        print(f"  {task_id}: {state or 'not finished (is the DAG paused?)'}")
    return 0 if all(state == "success" for state in states.values()) else 1

