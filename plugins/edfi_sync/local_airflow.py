"""A local Airflow for `make demo` and the tests: api-server, scheduler, dag-processor and
triggerer on 127.0.0.1, each in a session of its own whose whole process group is stopped
(its LocalExecutor workers and task runners included). With the CeleryExecutor it also runs
Debian's ``redis-server`` as the broker (127.0.0.1, a free port, nothing saved) and Celery
workers, each in a session of its own too.

The recipe's pitfalls are handled here, once: the execution API URL follows the port (tasks
otherwise call :8080), parallelism 4 (not 32 LocalExecutor workers on 2 cores), a fixed login
through a passwords file, and a new session per start (killing one PID leaves orphans).
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests
from psycopg.conninfo import conninfo_to_dict

REPO = Path(__file__).resolve().parents[2]
COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")
HEALTHY = ("metadatabase", "scheduler", "triggerer", "dag_processor")
XCOM_BACKEND = "airflow.providers.common.io.xcom.backend.XComObjectStorageBackend"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LocalAirflow:
    """An Airflow whose state (AIRFLOW_HOME, logs, the process group id) lives in ``home``.
    ``executor`` ``CeleryExecutor`` adds the broker and ``celery_workers`` workers, each running
    ``celery_concurrency`` tasks at once."""

    def __init__(self, home: Path, port: int, user: str = "admin", password: str = "admin",
                 executor: str = "LocalExecutor", celery_workers: int = 2, celery_concurrency: int = 2):
        self.home, self.port, self.user, self.password = Path(home), port, user, password
        self.url = f"http://127.0.0.1:{port}"
        self.pgid_file = self.home / "airflow.pgids"
        self.executor = executor
        self.celery = executor == "CeleryExecutor"
        self.celery_workers, self.celery_concurrency = celery_workers, celery_concurrency
        self.broker_port = free_port() if self.celery else None

    def environment(self, *, metadata: str, sis: str, edfi_api: str, xcom_dir: Path | None = None,
                    extra: dict[str, str] | None = None,
                    users: dict[str, tuple[str, str]] | None = None) -> dict[str, str]:
        """The environment every component (and any `airflow` CLI call) needs: ``metadata`` and
        ``sis`` are libpq conninfos, ``edfi_api`` the AIRFLOW_CONN_EDFI_API value; ``xcom_dir``
        turns on the object-storage XCom backend under that directory; ``users`` adds logins
        (name -> (SimpleAuthManager role, password)) beside the admin."""
        logins = {self.user: ("admin", self.password), **(users or {})}
        passwords = self.home / "passwords.json"
        passwords.write_text(json.dumps({name: password for name, (_, password) in logins.items()}))
        meta, sis_params = conninfo_to_dict(metadata), conninfo_to_dict(sis)
        env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW__")}
        env.update({
            "AIRFLOW_HOME": str(self.home), "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"), "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO / "plugins"),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN":
                f"postgresql+psycopg://{meta.get('user', '')}:@/{meta['dbname']}?host={meta['host']}",
            "AIRFLOW__API__HOST": "127.0.0.1", "AIRFLOW__API__PORT": str(self.port),
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.url}/execution/",
            "AIRFLOW__CORE__PARALLELISM": "4",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": ",".join(f"{name}:{role}" for name, (role, _) in logins.items()),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            # An idle scheduler loop sleeps this long before it queues the tasks a finished one freed
            # (default 1 s, at every level of the resource graph): a DAG run of the live tests ends
            # about a fifth sooner for a few more scheduler queries a second.
            "AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME": "0.2",
            # The connection form's Test button (the edfi type's hook: GET / and a token request).
            "AIRFLOW__CORE__TEST_CONNECTION": "Enabled",
            # Where alert links point (the error log page, the DAG run).
            "AIRFLOW__API__BASE_URL": self.url,
            "AIRFLOW_CONN_EDFI_SIS": json.dumps({"conn_type": "postgres", "host": sis_params["host"],
                                                 "login": sis_params.get("user"), "schema": sis_params["dbname"]}),
            "AIRFLOW_CONN_EDFI_API": edfi_api,
            # The maintenance DAG reads which XCom files the metadata database's rows reference.
            "AIRFLOW_CONN_EDFI_AIRFLOW_DB": json.dumps({"conn_type": "postgres", "host": meta["host"],
                                                        "login": meta.get("user"), "schema": meta["dbname"]}),
        })
        if self.celery:
            env.update({"AIRFLOW__CORE__EXECUTOR": self.executor,
                        "AIRFLOW__CELERY__BROKER_URL": f"redis://127.0.0.1:{self.broker_port}/0",
                        "AIRFLOW__CELERY__RESULT_BACKEND":
                            f"db+postgresql://{meta.get('user', '')}:@/{meta['dbname']}?host={meta['host']}",
                        "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(self.celery_concurrency)})
        if xcom_dir is not None:
            # The task summaries stay in the database, where the UI and REST API read them (they show
            # only the path of a stored value); anything above 64 KiB goes to files.
            env.update({"AIRFLOW__CORE__XCOM_BACKEND": XCOM_BACKEND,
                        "AIRFLOW__COMMON_IO__XCOM_OBJECTSTORAGE_PATH": f"file://{Path(xcom_dir).resolve()}",
                        "AIRFLOW__COMMON_IO__XCOM_OBJECTSTORAGE_THRESHOLD": "65536",
                        "AIRFLOW__COMMON_IO__XCOM_OBJECTSTORAGE_COMPRESSION": "gzip"})
        env.update(extra or {})
        # For `airflow ...` commands against this Airflow: `set -a; . <home>/airflow.env; set +a`
        own = {k: v for k, v in env.items() if k.startswith(("AIRFLOW", "EDFI_SYNC_"))}
        env_file = self.home / "airflow.env"
        env_file.write_text("".join(f"{k}={shlex.quote(v)}\n" for k, v in sorted(own.items())))
        env_file.chmod(0o600)
        return env

    def healthy(self) -> bool:
        try:
            health = requests.get(f"{self.url}/api/v2/monitor/health", timeout=5).json()
        except (requests.RequestException, ValueError):
            return False
        return all(health.get(c, {}).get("status") == "healthy" for c in HEALTHY)

    def components(self) -> list[tuple[str, list[str]]]:
        """(log name, command) of every process to start, in order: the broker first."""
        airflow = [sys.executable, "-m", "airflow"]
        started = [(c, [*airflow, c]) for c in COMPONENTS]
        if not self.celery:
            return started
        redis = shutil.which("redis-server")
        if redis is None:
            raise RuntimeError("the CeleryExecutor needs redis-server as its broker: apt-get install -y redis-server")
        broker = [redis, "--bind", "127.0.0.1", "--port", str(self.broker_port), "--save", "", "--appendonly", "no",
                  "--dir", str(self.home)]
        workers = [(f"celery-worker-{n}", [*airflow, "celery", "worker", "--celery-hostname", f"worker{n}@%h",
                                           "--concurrency", str(self.celery_concurrency)])
                   for n in range(1, self.celery_workers + 1)]
        return [("redis", broker), *started, *workers]

    def start(self, env: dict[str, str], timeout: float = 180) -> None:
        """Migrate the metadata database, start the components (and the broker and workers),
        wait until healthy."""
        logs = self.home / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], env=env, check=True,
                       stdout=open(logs / "db-migrate.log", "w"), stderr=subprocess.STDOUT, timeout=600)
        procs = [(name, self._spawn(name, command, env)) for name, command in self.components()]
        deadline = time.monotonic() + timeout
        while not (self.healthy() and self._workers_ready(logs)):
            dead = [name for name, p in procs if p.poll() is not None]
            if dead or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"Airflow did not become healthy ({', '.join(dead) or 'timeout'}); "
                                   f"see {logs}")
            time.sleep(1)

    def _workers_ready(self, logs: Path) -> bool:
        """Every Celery worker has connected to the broker and said so in its log."""
        return all(" ready." in (logs / f"celery-worker-{n}.log").read_text(errors="replace")
                   for n in range(1, self.celery_workers + 1)) if self.celery else True

    def _spawn(self, name: str, command: list[str], env: dict[str, str]) -> subprocess.Popen:
        """One component in a session (process group) of its own, recorded at once: a failed start
        must still be stoppable."""
        with open(self.home / "logs" / f"{name}.log", "ab") as log:
            proc = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        with open(self.pgid_file, "a") as pgids:
            pgids.write(f"{name} {proc.pid}\n")
        return proc

    def groups(self) -> dict[str, int]:
        """The process group of each component that was started (the last start of each)."""
        lines = self.pgid_file.read_text().splitlines() if self.pgid_file.exists() else []
        return {parts[0]: int(parts[1]) for parts in (line.split() for line in lines) if len(parts) == 2}

    def kill(self, component: str) -> None:
        """SIGKILL one component's whole process group (the scheduler's LocalExecutor workers and
        their task runners with it), as a crashed host would; the others keep running."""
        stop_groups([self.groups()[component]], timeout=0, sig=signal.SIGKILL)

    def restart(self, component: str, env: dict[str, str], timeout: float = 180) -> None:
        """Start one component again (after :meth:`kill`) and wait until Airflow is healthy."""
        proc = self._spawn(component, dict(self.components())[component], env)
        deadline = time.monotonic() + timeout
        while not self.healthy():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{component} did not come back; see {self.home / 'logs'}")
            time.sleep(1)

    def stop(self, timeout: float = 30) -> bool:
        """SIGTERM to each component's process group (SIGKILL after ``timeout``); True when one ran."""
        if not self.pgid_file.exists():
            return False
        # "component pgid" lines; a bare pgid is a line an earlier version wrote.
        pgids = [int(line.split()[-1]) for line in self.pgid_file.read_text().splitlines() if line.strip()]
        stopped = stop_groups(pgids, timeout)
        self.pgid_file.unlink()
        return stopped


def stop_groups(pgids: list[int], timeout: float = 30, sig: int = signal.SIGTERM) -> bool:
    """``sig`` to every process of these groups, SIGKILL to what is left after ``timeout``;
    returns once none is left. True when one was running."""
    running = False
    for pgid in pgids:
        try:
            os.killpg(pgid, sig)
            running = True
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + timeout
    while left := [pid for pgid in pgids for pid in members(pgid)]:
        if time.monotonic() > deadline:
            for pid in left:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        time.sleep(0.2)
    return running


def members(pgid: int) -> list[int]:
    """The live processes of a group. Zombies do not count (kill(0) would still reach them), and
    ours are reaped on the way."""
    try:
        while os.waitpid(-pgid, os.WNOHANG)[0]:
            pass
    except ChildProcessError:
        pass
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            # pid (comm) state ppid pgrp ...; comm may hold spaces, so split after its ')'
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z" and int(fields[2]) == pgid:
            found.append(int(stat.parent.name))
    return found
