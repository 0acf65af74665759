"""Security (issue 22, docs/reliability.md "Security"): secrets kept, SQL parameterised, TLS verified.

- A unique client secret is planted and every output, every report, every table and every exception
  is searched for it and for the live bearer tokens (the Airflow side, logs and XCom included, is in
  tests/test_airflow_e2e.py).
- SQL metacharacters go through every name and filter the command line takes, as data.
- A local HTTPS sandbox with a self-signed certificate: refused by default, accepted with the
  connection's ``verify`` = the CA bundle.
- The operator pages of a live Airflow (the session's ``live_airflow``): every route, page and CSV,
  every task's log and XCom and every log file searched for secrets; SQL metacharacters and NUL in
  every filter of every page.
The sandbox's own 401/403 enforcement is tests/sandbox/test_security.py; the pages' database role
that cannot read edfi_sync.token_cache is tests/test_report_queries.py.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import uuid
from dataclasses import fields
from pathlib import Path
from urllib.parse import urlencode

import psycopg
import pytest
import requests
from psycopg import sql as pgsql

from e2e_helpers import YEAR, database_text, live_tokens, sql, sync
from test_bad_config_and_systemic import edfi_sync  # noqa: F401 - `edfi-sync ...` in process
from edfi_sync.engine.runner import SystemicFailure
from edfi_sync.hooks.client import EdFiSettings
from edfi_sync.connections import parse_connection
from edfi_sync.reports.filters import ErrorFilters, IdentityMapFilters, RunFilters
from edfi_sync.sandbox.testing import run_sandbox
from test_operator_pages import routes

pytestmark = pytest.mark.e2e
SECRET = f"planted-secret-{uuid.uuid4().hex}"
INJECTION = "x'); DROP TABLE edfi_sync.error_log; --"


@pytest.fixture
def secret_sandbox(monkeypatch):
    with run_sandbox(secret=SECRET) as server:
        monkeypatch.setenv("AIRFLOW_CONN_EDFI_API", json.dumps({
            "conn_type": "http", "host": server.base_url, "login": server.key, "password": SECRET,
            "extra": {"max_attempts": 1}}))
        yield server


def test_the_secret_and_the_bearer_tokens_appear_nowhere_but_the_token_cache(small_sis, secret_sandbox, edfi_sync):
    outputs = []
    # A run at debug level with record errors, a dry run, then a run that fails after the token was
    # granted (the ODS drops every POST): every line they print.
    for args in (("-v", "sync", "--school-year", YEAR), ("sync", "--school-year", YEAR, "--dry-run")):
        code, out, err = edfi_sync(*args)
        assert code == 0, err
        outputs.append(out + err)
    sql(small_sis, "UPDATE sis.person SET first_name = 'Anita' WHERE person_id = 1")
    secret_sandbox.set_faults(drop_rate=1.0, paths="^/data/", methods=["PUT"])
    code, out, err = edfi_sync("-v", "sync", "--school-year", YEAR)
    assert code == 2 and "no answer after 1 attempts" in err
    outputs.append(out + err)
    # Every report in every format, the configuration, the database's status.
    for kind in ("errors", "identity-map", "reconciliation"):
        for form in ("table", "csv", "json"):
            code, out, err = edfi_sync("report", kind, "--school-year", YEAR, "--format", form)
            assert code == 0
            outputs.append(out + err)
    for args in (("config", "show"), ("config", "show", "--format", "csv"), ("db", "status")):
        outputs.append("".join(edfi_sync(*args)[1:]))
    # What a traceback or a log line would print of the connection and its settings.
    spec = parse_connection("edfi_api", json.dumps({"conn_type": "http", "host": "h", "password": SECRET}))
    settings = EdFiSettings(base_url="https://h", client_key="k", client_secret=SECRET)
    outputs += [repr(spec), str(spec.redacted()), repr(settings), str(settings)]

    tokens = live_tokens(small_sis)
    assert tokens, "the runs cached no token"
    everything = "\n".join(outputs) + database_text(small_sis)
    assert "Anita" in everything and "100000003" in everything  # the search does see the data
    for secret in (SECRET, *tokens):
        assert secret not in everything
    # The one place a live token is kept: the token cache (which the pages' role cannot read).
    assert all(token in database_text(small_sis, leave_out=()) for token in tokens)


def tables(conninfo: str) -> dict[str, int]:
    with psycopg.connect(conninfo) as conn:
        names = conn.execute("SELECT table_schema || '.' || table_name FROM information_schema.tables "
                             "WHERE table_schema IN ('sis', 'edfi_sync') AND table_type = 'BASE TABLE'").fetchall()
        return {name: conn.execute(pgsql.SQL("SELECT count(*) FROM {}").format(
            pgsql.Identifier(*name.split(".")))).fetchone()[0] for name, in names}


def test_sql_metacharacters_in_every_name_and_filter_of_the_command_line_are_data(
        small_sis, sandbox, edfi_sync, tmp_path):
    sync(small_sis)
    before = tables(small_sis)
    for kind in ("errors", "identity-map", "reconciliation"):
        assert edfi_sync("report", kind, "--school-year", YEAR, "--resource", INJECTION, "--format", "json")[:2] == (
            0, "[]\n")
    code, out, err = edfi_sync("sync", "--school-year", YEAR, "--resource", INJECTION)
    assert code == 2 and "unknown resources" in err
    with pytest.raises(SystemExit) as refused:  # a closed list: argparse refuses it
        edfi_sync("report", "errors", "--school-year", YEAR, "--status", INJECTION)
    assert refused.value.code == 2
    since = sandbox.requests()[-1]["seq"]
    for schools in (INJECTION, f"350010001,{INJECTION}"):
        assert edfi_sync("sync", "--school-year", YEAR, "--schools", schools)[0] == 0
    assert [r for r in sandbox.requests(since) if r["method"] != "GET"] == []
    # A SIS code is any text: imported, shown and read back as it is. A connection id is not.
    path = tmp_path / "config.yaml"
    path.write_text(f"years:\n  2025:\n    mappings:\n      studentSchoolAssociations:\n        grade_level:\n"
                    f"          \"{INJECTION}\": \"uri://ed-fi.org/GradeLevelDescriptor#{INJECTION}\"\n",
                    encoding="utf-8")
    assert edfi_sync("config", "import", path)[0] == 0
    assert sql(small_sis, "SELECT code_value FROM edfi_sync.mapping WHERE sis_value = %s", INJECTION) == [
        (INJECTION,)]
    assert INJECTION in edfi_sync("config", "show", "--school-year", YEAR)[1]
    path.write_text(f"years:\n  2025:\n    connection: \"{INJECTION}\"\n", encoding="utf-8")
    code, out, err = edfi_sync("config", "import", path)
    assert code == 1 and "is not a connection id" in err
    after = tables(small_sis)
    assert set(after) == set(before)  # every table is still there
    assert after["edfi_sync.mapping"] == before["edfi_sync.mapping"] + 1
    assert {k: v for k, v in after.items() if k.startswith("sis.")} == {
        k: v for k, v in before.items() if k.startswith("sis.")}


def certificates(directory) -> tuple[str, str, str]:
    """A private CA and a certificate it signed for 127.0.0.1: (certificate, key, CA bundle) files."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.timezone.utc)

    def certificate(subject: str, key, issuer: str, issuer_key, ca: bool):
        builder = (x509.CertificateBuilder()
                   .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
                   .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now - datetime.timedelta(minutes=5))
                   .not_valid_after(now + datetime.timedelta(days=1))
                   .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
        if not ca:
            builder = builder.add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        return builder.sign(issuer_key, hashes.SHA256())

    ca_key, server_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = certificate("edfi-sync test CA", ca_key, "edfi-sync test CA", ca_key, True)
    server = certificate("127.0.0.1", server_key, "edfi-sync test CA", ca_key, False)
    paths = (directory / "server.pem", directory / "server.key", directory / "ca.pem")
    paths[0].write_bytes(server.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(server_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                  serialization.NoEncryption()))
    paths[2].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    return tuple(str(p) for p in paths)


def test_tls_is_verified_by_default_and_a_ca_bundle_makes_a_private_ca_trusted(small_sis, tmp_path, monkeypatch):
    cert, key, ca = certificates(tmp_path)
    with run_sandbox(https=(cert, key, ca)) as server:
        def sync_leas(**extra):
            monkeypatch.setenv("AIRFLOW_CONN_EDFI_API", json.dumps({
                "conn_type": "http", "host": server.base_url, "login": server.key, "password": server.secret,
                "extra": extra}))
            return sync(small_sis, resources=("localEducationAgencies",))

        assert server.base_url.startswith("https://")
        with pytest.raises(SystemicFailure, match="TLS certificate that could not be verified .*verify extra"):
            sync_leas()  # verify defaults to true: the system's CAs do not know ours
        assert server.requests() == []  # refused in the handshake: not even the token request got through
        with pytest.raises(SystemicFailure, match="cannot read the CA bundle"):
            sync_leas(verify=str(tmp_path / "missing.pem"))
        assert sync_leas(verify=ca).status == "success"
        assert [r["localEducationAgencyId"] for r in server.records("localEducationAgencies")] == [3500100]


@pytest.fixture(scope="module")
def pages(live_airflow):
    """The session's Airflow (tests/live_airflow.py) after one DAG run over sync_small.sql, whose
    record errors the pages show; the engine run id."""
    live_airflow.load("sync_small.sql")
    return live_airflow, f"{live_airflow.run({'school_years': [YEAR]})}__{YEAR}"


def page_filters():
    """(page, filter) for every filter of every page, from the filters' own definitions."""
    return [(page, f.name) for page, filters in (("errors", ErrorFilters), ("identity-map", IdentityMapFilters),
                                                 ("runs", RunFilters)) for f in fields(filters)]


def test_the_pages_logs_and_xcoms_of_a_live_airflow_show_no_secret(pages):
    airflow, engine_run = pages
    dag_run = engine_run.rsplit("__", 1)[0]
    http = requests.Session()
    http.headers["Authorization"] = f"Bearer {airflow.token()}"
    texts = [http.get(airflow.url + path, timeout=60).text
             for method, path in routes(airflow, engine_run) if method == "GET"]
    texts += [http.get(f"{airflow.url}/edfi-sync/{page}?status=all", timeout=60).text
              for page in ("errors", "errors.csv")]
    tasks = airflow.task_states(dag_run)
    texts += [airflow.log(dag_run, task) for task in tasks]
    texts += [json.dumps(airflow.summary(dag_run, task)) for task in tasks if "." in task]  # the steps' XComs
    logs = Path(airflow.env["AIRFLOW_HOME"]) / "logs"  # every component's log and every task's
    texts += [path.read_text(errors="replace") for path in logs.rglob("*.log")]
    everything = "\n".join(texts) + database_text(airflow.sis)
    assert "post.students" in everything and "100000003" in everything  # the search sees the pages and logs
    tokens = live_tokens(airflow.sis)
    assert tokens
    for secret in (airflow.sandbox.secret, airflow.password, *tokens):
        assert secret not in everything


@pytest.mark.parametrize("value", [INJECTION, "\" OR 1=1; --", "%_\\", "\x00"], ids=["quote", "dquote", "like", "nul"])
def test_sql_metacharacters_in_every_filter_of_every_page_are_values(pages, value):
    airflow, _ = pages
    http = requests.Session()
    http.headers.update({"Authorization": f"Bearer {airflow.token()}", "Accept": "text/html"})
    before = tables(airflow.sis)
    for page, name in page_filters():
        for suffix in ("", ".csv"):
            response = http.get(f"{airflow.url}/edfi-sync/{page}{suffix}?" + urlencode({name: value}), timeout=60)
            # a value, or a filter that says what it takes; never a server error
            assert response.status_code in (200, 400), (page, name, response.status_code, response.text[:300])
            if value == "\x00":  # PostgreSQL text holds no NUL: the filter says so, rather than fail the query
                assert response.status_code == 400, (page, name)
    assert tables(airflow.sis) == before


def test_sql_metacharacters_in_the_names_airflow_rerun_takes_match_nothing(pages):
    airflow, _ = pages
    before = tables(airflow.sis)
    for args in (("--dag-id", INJECTION, "--run-id", "x", "--resource", "schools"),
                 ("--dag-id", "edfi_sync", "--run-id", INJECTION, "--resource", "schools")):
        result = airflow.rerun(*args)
        assert result.returncode == 3 and "Traceback" not in result.stderr, result.stderr
    assert tables(airflow.sis) == before
