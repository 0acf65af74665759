"""EdFiSyncNotifier: the sync DAGs' alerts, through Airflow's notifier mechanism.

On the DAGs as ``on_failure_callback`` / ``on_success_callback`` (the dag-processor runs them)
and as the ``edfi_sync`` deadline's callback (``AsyncCallback``; the triggerer runs it). It reads
the run ledger and the error log of the DAG run (see :mod:`.summary`) and sends one alert per
event to every configured channel: the log always (logger ``edfi_sync.alerts``), e-mail through
the SMTP provider and Slack through the Slack provider when the Airflow Variable
``edfi_sync_alerts`` (JSON) names them::

    {"email": ["data@district.org"], "smtp_conn_id": "smtp_default", "from_email": "edfi@district.org",
     "slack_webhook_conn_id": "slack_edfi", "on_record_errors": "new", "airflow_url": "https://airflow.district.org"}

Importing this module is cheap (the DAG file does): the database and providers load when it runs.
"""

from __future__ import annotations

import asyncio
import html
import json
import logging
from collections import Counter
from datetime import datetime
from typing import Any

from airflow.sdk.bases.notifier import BaseNotifier

log = logging.getLogger("edfi_sync.alerts")

VARIABLE = "edfi_sync_alerts"
DEFAULT_AIRFLOW_URL = "http://localhost:8080"


class EdFiSyncNotifier(BaseNotifier):
    """``event``: ``failure``, ``success`` (alerts only when records were logged as errors) or
    ``deadline``. ``context`` is what the triggerer passes a deadline callback."""

    def __init__(self, event: str = "failure", context: dict | None = None, sis_conn_id: str = "edfi_sis"):
        super().__init__(context)
        if event not in ("failure", "success", "deadline"):
            raise ValueError(f"event must be failure, success or deadline, not {event!r}")
        self.event, self.sis_conn_id = event, sis_conn_id

    def render_template_fields(self, context, jinja_env=None) -> None:
        """Nothing to render (no template fields), so no Jinja environment is built from the DAG:
        under ``dag.test()`` the context's DAG is a SerializedDAG, which cannot make one."""

    def notify(self, context) -> None:
        from .summary import compose, should_alert

        settings = alert_settings()
        facts = self._facts(context, settings)
        if not should_alert(facts, settings.get("on_record_errors", "new")):
            return
        deliver(compose(facts), settings, context)

    async def async_notify(self, context) -> None:
        await asyncio.to_thread(self.notify, context)

    def _facts(self, context, settings: dict[str, Any]):
        from ..hooks.sis import SisDatabaseHook
        from .summary import AlertFacts

        dag_run = context.get("dag_run")
        state = None
        if isinstance(dag_run, dict):  # a deadline callback's context: the DAG run as the REST API shows it
            dag_id, dag_run_id, params = dag_run["dag_id"], dag_run["dag_run_id"], dag_run.get("conf") or {}
            state = dag_run.get("state")
        else:
            dag_id, dag_run_id = context["dag"].dag_id, context["run_id"]
            params = context.get("params") or {}
        ti = context.get("ti")
        deadline = (context.get("deadline") or {}).get("deadline_time")
        facts = AlertFacts(
            dag_id=dag_id, dag_run_id=dag_run_id, event=self.event, airflow_url=airflow_url(settings),
            reason=context.get("reason"), dry_run=bool(params.get("dry_run")), state=state,
            failed_task=ti.task_id if ti is not None and context.get("reason") == "task_failure" else None,
            deadline=datetime.fromisoformat(deadline) if isinstance(deadline, str) else deadline)
        try:
            facts.years = read_years(SisDatabaseHook(self.sis_conn_id).conninfo(), dag_run_id)
        except Exception as exc:  # noqa: BLE001 - a failure alert matters most when the database is down
            facts.unread = f"{type(exc).__name__}: {exc}"
        return facts


def read_years(conninfo: str, dag_run_id: str):
    """The DAG run's engine runs, their steps' counts and their errors."""
    import psycopg

    from ..paths import read_sql
    from .summary import YearFacts

    with psycopg.connect(conninfo) as conn:
        years = {run_id: YearFacts(year, run_id, status, new, open_)
                 for run_id, year, status, _, new, open_ in
                 conn.execute(read_sql("alerts/runs.sql"), {"dag_run_id": dag_run_id})}
        for run_id, resource, phase, status, counts in conn.execute(read_sql("alerts/steps.sql"),
                                                                     {"run_ids": list(years)}):
            year = years[run_id]
            year.resources.setdefault(resource, Counter()).update(counts or {})
            if status == "running":
                year.running.append(f"{phase}.{resource}")
    return list(years.values())


def alert_settings() -> dict[str, Any]:
    from airflow.sdk import Variable

    value = Variable.get(VARIABLE, default=None)
    return json.loads(value) if isinstance(value, str) and value.strip() else dict(value or {})


def airflow_url(settings: dict[str, Any]) -> str:
    """Where the links point: the Variable's airflow_url, else Airflow's [api] base_url."""
    if settings.get("airflow_url"):
        return settings["airflow_url"]
    from airflow.sdk.configuration import conf

    return conf.get("api", "base_url", fallback=None) or DEFAULT_AIRFLOW_URL


def deliver(alert, settings: dict[str, Any], context) -> None:
    """The log always; e-mail and Slack when configured. A channel that fails is logged and the
    others still get the alert."""
    log.log(logging.ERROR if alert.level == "error" else logging.WARNING, "%s\n%s", alert.subject, alert.body)
    channels = []
    if settings.get("email"):
        channels.append(("e-mail", _email, "alerts-email"))
    if settings.get("slack_webhook_conn_id"):
        channels.append(("Slack", _slack, "alerts-slack"))
    for name, send, extra in channels:
        try:
            send(alert, settings, context)
        except ImportError as exc:
            log.error("alert not sent by %s: its provider is not installed (%s); install edfi-sync[%s]",
                      name, exc, extra)
        except Exception:  # noqa: BLE001 - one channel's failure must not silence the others
            log.exception("alert not sent by %s", name)


def _email(alert, settings: dict[str, Any], context) -> None:
    from airflow.providers.smtp.notifications.smtp import SmtpNotifier

    to = settings["email"]
    SmtpNotifier(to=[to] if isinstance(to, str) else list(to), from_email=settings.get("from_email"),
                 subject=alert.subject, html_content=f"<pre>{html.escape(alert.body)}</pre>",
                 smtp_conn_id=settings.get("smtp_conn_id")).notify(context)


def _slack(alert, settings: dict[str, Any], context) -> None:
    from airflow.providers.slack.notifications.slack_webhook import SlackWebhookNotifier

    SlackWebhookNotifier(slack_webhook_conn_id=settings["slack_webhook_conn_id"],
                         text=f"*{alert.subject}*\n```{alert.body}```").notify(context)
