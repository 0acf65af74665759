"""Pages as HTML: one Jinja2 environment (autoescape on, templates as files), and the small
formatting helpers the templates share."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from ..reports.terminal import student
from . import PAGES, URL_PREFIX, csrf

TEMPLATES = Path(__file__).parent / "templates"


def number(value: Any) -> str:
    return "" if value is None else f"{value:,}"


def when(value: datetime | None) -> str:
    """A time as operators read it, in UTC (the pages' one time zone)."""
    return "" if value is None else value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def school_year(end_year: int) -> str:
    """2025 -> "2024–25": how districts name a school year."""
    return f"{end_year - 1}–{end_year % 100:02d}"


def duration(start: datetime | None, end: datetime | None) -> str:
    if start is None or end is None:
        return ""
    seconds = int((end - start).total_seconds())
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    return f"{minutes}m {seconds:02d}s" if minutes < 60 else f"{minutes // 60}h {minutes % 60:02d}m"


def pretty_json(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, default=str)


def airflow_run_url(root: str, dag_id: str | None, dag_run_id: str | None) -> str | None:
    if not (dag_id and dag_run_id):
        return None
    return f"{root}/dags/{quote(dag_id, safe='')}/runs/{quote(dag_run_id, safe='')}"


def airflow_task_url(root: str, dag_id: str | None, dag_run_id: str | None, task_id: str | None) -> str | None:
    run = airflow_run_url(root, dag_id, dag_run_id)
    return f"{run}/tasks/{quote(task_id, safe='')}" if run and task_id else None


_env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html", "svg"]),
                   undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
_env.filters.update(number=number, when=when, pretty_json=pretty_json, school_year=school_year,
                    pairs=lambda values: [(v, v.replace("_", " ")) for v in values])
_env.globals.update(duration=duration, student=student, nav=PAGES)


def base(request: Request) -> str:
    """Where this app is mounted (``/edfi-sync`` under Airflow's root)."""
    return request.scope.get("root_path", "").rstrip("/")


def page(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """A page: ``base`` is where this app is mounted, ``airflow`` the UI's root (for links to DAG
    runs and task instances)."""
    root = base(request)
    airflow = root.removesuffix(URL_PREFIX)
    context.setdefault("user", None)
    if context["user"] is not None:  # every form of an action carries it
        context.setdefault("csrf_token", csrf.token(context["user"]))
    html = _env.get_template(template).render(
        request=request, base=root, airflow=airflow,
        run_url=lambda dag_id, run_id: airflow_run_url(airflow, dag_id, run_id),
        task_url=lambda dag_id, run_id, task_id: airflow_task_url(airflow, dag_id, run_id, task_id),
        **context)
    return HTMLResponse(html, status_code=status_code)
