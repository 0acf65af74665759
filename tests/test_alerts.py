"""Alerts: when one is due (pure), and that the e-mail and Slack channels deliver it through
Airflow's SMTP and Slack providers, to an SMTP server and a webhook on 127.0.0.1. The log
channel, with what the DAG runs write, is tested through dag.test() in tests/test_airflow_e2e.py."""

from __future__ import annotations

import email
import json
import logging
import socketserver
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, HTTPServer

from edfi_sync.alerts.notifier import deliver
from edfi_sync.alerts.summary import AlertFacts, YearFacts, compose, should_alert


def facts(event: str, *, new: int = 0, failed: int = 0, state: str | None = None) -> AlertFacts:
    year = YearFacts(2025, "r__2025", "record_errors" if failed else "success", new_errors=new, open_errors=failed,
                     resources={"students": {"extracted": 5, "POST.ok": 4, "POST.failed": failed}})
    return AlertFacts("edfi_sync", "r", event, "http://airflow.example.org", years=[year], state=state,
                      reason="task_failure", failed_task="post.students")


def test_when_an_alert_is_due():
    assert should_alert(facts("failure"))
    assert not should_alert(facts("success"))  # a clean run says nothing
    assert should_alert(facts("success", failed=2, new=1))
    assert not should_alert(facts("success", failed=2, new=0))  # the same known errors: no news
    assert should_alert(facts("success", failed=2, new=0), on_record_errors="always")
    assert not should_alert(facts("success", failed=2, new=2), on_record_errors="never")
    assert should_alert(facts("deadline", state="running"))
    assert not should_alert(facts("deadline", state="failed"))  # its failure alert was the news


class _Smtp(socketserver.StreamRequestHandler):
    """Just enough SMTP to receive one message."""

    def handle(self):
        self.wfile.write(b"220 sink\r\n")
        while line := self.rfile.readline():
            verb = line.split(b" ", 1)[0].strip().upper()
            if verb == b"DATA":
                self.wfile.write(b"354 go\r\n")
                data = b"".join(iter(lambda: self.rfile.readline(), b".\r\n"))
                self.server.messages.append(data.decode())
                self.wfile.write(b"250 ok\r\n")
            elif verb == b"QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 ok\r\n")


class _Webhook(BaseHTTPRequestHandler):
    def do_POST(self):
        self.server.posts.append((self.path, json.loads(self.rfile.read(int(self.headers["Content-Length"])))))
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


@contextmanager
def serving(server):
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def test_email_and_slack_channels_deliver_the_alert(monkeypatch, caplog):
    smtp = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Smtp)
    smtp.messages = []
    webhook = HTTPServer(("127.0.0.1", 0), _Webhook)
    webhook.posts = []
    monkeypatch.setenv("AIRFLOW_CONN_ALERTS_SMTP", json.dumps({
        "conn_type": "smtp", "host": "127.0.0.1", "port": smtp.server_address[1],
        "extra": {"disable_tls": True, "disable_ssl": True, "timeout": 10}}))
    monkeypatch.setenv("AIRFLOW_CONN_SLACK_EDFI", json.dumps({
        "conn_type": "slackwebhook", "host": f"http://127.0.0.1:{webhook.server_address[1]}",
        "password": "T000/B000/XXXX"}))
    alert = compose(facts("failure", failed=1))
    settings = {"email": "data@district.example", "from_email": "edfi@district.example",
                "smtp_conn_id": "alerts_smtp", "slack_webhook_conn_id": "slack_edfi"}
    with serving(smtp), serving(webhook), caplog.at_level(logging.INFO, logger="edfi_sync.alerts"):
        deliver(alert, settings, {})
    [message] = [email.message_from_string(m) for m in smtp.messages]
    assert (message["Subject"], message["To"]) == (alert.subject, "data@district.example")
    html = next(part.get_payload(decode=True).decode() for part in message.walk() if part.get_content_type() == "text/html")
    assert html.startswith("<pre>edfi_sync run r failed: task post.students failed (task_failure).")
    [(path, body)] = webhook.posts
    assert path == "/T000/B000/XXXX"
    assert body["text"].startswith(f"*{alert.subject}*") and "Error log: http://airflow.example.org/edfi-sync/" \
        "errors?school_year=2025&run_id=r__2025" in body["text"]
    assert [r.getMessage().split("\n")[0] for r in caplog.records if r.name == "edfi_sync.alerts"] == [alert.subject]


def test_a_channel_that_fails_does_not_silence_the_others(monkeypatch, caplog):
    webhook = HTTPServer(("127.0.0.1", 0), _Webhook)
    webhook.posts = []
    monkeypatch.setenv("AIRFLOW_CONN_SLACK_EDFI", json.dumps({
        "conn_type": "slackwebhook", "host": f"http://127.0.0.1:{webhook.server_address[1]}", "password": "T/B/X"}))
    settings = {"email": ["data@district.example"], "smtp_conn_id": "no_such_connection",
                "slack_webhook_conn_id": "slack_edfi"}
    with serving(webhook), caplog.at_level(logging.INFO, logger="edfi_sync.alerts"):
        deliver(compose(facts("failure")), settings, {})
    assert len(webhook.posts) == 1
    assert any(r.getMessage() == "alert not sent by e-mail" for r in caplog.records)


def test_the_deadline_callback_runs_as_the_triggerer_runs_it(small_sis, caplog):
    """edfi_sync's DeadlineAlert, called the way Airflow's triggerer calls it (CallbackTrigger with
    the scheduler's simple context), reports what is done and what is still going."""
    import asyncio
    from datetime import datetime, timezone

    from airflow.triggers.callback import CallbackTrigger

    from e2e_helpers import sql
    from edfi_sync.dag_factory import incremental_dag

    sql(small_sis, "INSERT INTO edfi_sync.sync_run (run_id, end_year, dag_id, dag_run_id) "
                   "VALUES ('scheduled__x__2025', 2025, 'edfi_sync', 'scheduled__x')")
    sql(small_sis, "INSERT INTO edfi_sync.resource_run (run_id, end_year, resource, phase, status, counts) VALUES "
                   "('scheduled__x__2025', 2025, 'localEducationAgencies', 'post', 'done', '{\"POST.ok\": 1}'), "
                   "('scheduled__x__2025', 2025, 'students', 'post', 'running', '{}')")
    [alert] = incremental_dag().deadline
    due = datetime(2026, 9, 1, 10, 0, tzinfo=timezone.utc)

    def trigger(state: str) -> list[dict]:
        context = {"dag_run": {"dag_id": "edfi_sync", "dag_run_id": "scheduled__x", "state": state, "conf": {}},
                   "deadline": {"id": "d1", "deadline_time": due}}
        callback = CallbackTrigger(callback_path=alert.callback.path,
                                   callback_kwargs={**alert.callback.kwargs, "context": context})

        async def events():
            return [event.payload async for event in callback.run()]

        return asyncio.run(events())

    with caplog.at_level(logging.INFO, logger="edfi_sync.alerts"):
        assert trigger("running")[-1]["state"] == "success"
        assert trigger("failed")[-1]["state"] == "success"  # its failure alert said it all: no second one
    [record] = [r for r in caplog.records if r.name == "edfi_sync.alerts"]
    subject, body = record.getMessage().split("\n", 1)
    assert subject == "[edfi-sync] edfi_sync run scheduled__x is still running, past its deadline 2026-09-01 10:00 UTC"
    assert "  still going: post.students" in body
    assert next(line for line in body.splitlines() if "localEducationAgencies" in line).split()[3] == "1"
