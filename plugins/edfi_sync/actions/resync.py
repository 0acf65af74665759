"""The Resync page's runs (SPEC §6.1): its form as an ``edfi_sync`` conf, and the preview of what a
run of it would send, read from the dry run's own records: its run ledger (counts per resource) and
its staging rows, through the engine's own action queries (the first records of each action)."""

from __future__ import annotations

from collections import Counter
from typing import Any, Iterable

import psycopg
from psycopg.rows import dict_row

from ..engine import queries
from ..engine.runner import SyncOptions
from ..engine.steps import post_partitions
from ..reports import store
from ..resources import GRAPH, RESOURCES

SAMPLE = 5
ACTIONS = ("POST", "PUT", "DELETE")


def conf(school_year: int, resources: Iterable[str], school: str | None, dry_run: bool) -> dict[str, Any]:
    """A resync of one school year: some resources (none = all) on one school or All Schools."""
    chosen = list(dict.fromkeys(resources))
    GRAPH.post_order(chosen)  # unknown names fail here, with the known ones listed
    return {"school_years": [school_year], "resources": chosen, "schools": [school] if school else "all",
            "resync": True, "dry_run": dry_run}


def _action(key: str) -> str | None:
    """Which of POST, PUT, DELETE a dry run's count key would be (would_POST, stray_would_DELETE, ...)."""
    return next((action for action in ACTIONS if key.endswith(f"would_{action}")), None)


def preview(conn: psycopg.Connection, dag_run_id: str, school_year: int) -> dict[str, Any]:
    """What the dry run ``dag_run_id`` found for ``school_year``: per resource, the count of each
    action and its first records (None while the stage is gone: a later run of the resource replaced
    it; the counts stay)."""
    run_id = f"{dag_run_id}__{school_year}"
    run = store.run(conn, run_id)
    if run is None:
        return {"run": None, "resources": []}
    params = run["params"] or {}
    options = SyncOptions(resources=tuple(params.get("resources") or ()), resync=bool(params.get("resync")),
                          schools=None if params.get("schools") in (None, "all") else tuple(params["schools"]))
    shared_instance = params.get("api_mode", "shared_instance") == "shared_instance"
    counts: dict[str, Counter] = {}
    for step in store.run_steps(conn, run_id):
        tally = counts.setdefault(step["resource"], Counter())
        for key, n in (step["counts"] or {}).items():
            if _action(key):
                tally[_action(key)] += n
    resources = []
    for name in GRAPH.post_order():
        if not sum(counts.get(name, Counter()).values()):
            continue
        sample = {action: _sample(conn, run, options, shared_instance, name, action)
                  for action in ACTIONS if counts[name][action]}
        resources.append({"resource": name, "counts": {a: counts[name][a] for a in ACTIONS},
                          "sample": sample, "staged": any(sample.values())})
    return {"run": run, "resources": resources, "totals": {a: sum(r["counts"][a] for r in resources) for a in ACTIONS}}


def _sample(conn: psycopg.Connection, run: dict, options: SyncOptions, shared_instance: bool, resource: str,
            action: str) -> list[dict[str, Any]]:
    """The first records of one action, by the query the run would send them from."""
    definition = RESOURCES[resource]
    params = {"run_id": run["run_id"], "end_year": run["end_year"], "resource": resource, "actions": [action],
              "key_change_by_put": definition.key_change == "put", **options.selection(resource),
              "lea_level": definition.level == "lea", "shared_instance": shared_instance,
              "partition": None}  # the records of every partition
    found: list[dict] = []
    with conn.transaction():
        if action == "DELETE":
            partitions = post_partitions(conn, run["run_id"], resource)
            if not partitions:
                return []
            names = ["stray_actions", "delete_actions"] if options.resync else ["delete_actions"]
            params["staged_at"] = min(row[3] for row in partitions)  # as the delete step takes it
        else:
            names = ["post_actions"]
        for name in names:
            with conn.cursor(name=f"preview_{name}", row_factory=dict_row) as actions:
                actions.execute(queries.engine(name), params)
                found += actions.fetchmany(SAMPLE - len(found))
            if len(found) >= SAMPLE:
                break
    return [{"natural_key": row["natural_key"], "sis_object_key": row.get("sis_object_key"),
             "student_unique_id": row.get("student_unique_id"), "edfi_id": row.get("edfi_id")} for row in found]
