"""Airflow-style connections read from ``AIRFLOW_CONN_*`` (URI or JSON form) without importing Airflow.

The CLI and the operators share this: inside Airflow the operator builds the same
:class:`ConnSpec` from ``BaseHook.get_connection``; outside it we parse the environment
exactly as Airflow would, so one variable configures both.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit


def as_bool(value: Any, default: bool | None = None) -> bool | None:
    """A boolean as connection extras, Params and templates spell it (true/yes/on/1); empty = default."""
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("1", "true", "yes", "on")


class ConnectionNotFound(LookupError):
    pass


@dataclass(frozen=True)
class ConnSpec:
    conn_id: str
    conn_type: str | None = None
    host: str | None = None
    port: int | None = None
    login: str | None = None
    password: str | None = field(default=None, repr=False)  # never printed
    schema: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def redacted(self) -> dict[str, Any]:
        """A description that is safe to log or show."""
        return {
            "conn_id": self.conn_id,
            "conn_type": self.conn_type,
            "host": self.host,
            "port": self.port,
            "login": self.login,
            "schema": self.schema,
            "password": "***" if self.password else None,
        }


def env_var_name(conn_id: str) -> str:
    return f"AIRFLOW_CONN_{conn_id.upper()}"


def parse_connection(conn_id: str, value: str) -> ConnSpec:
    value = value.strip()
    if value.startswith("{"):
        data = json.loads(value)
        extra = data.get("extra") or {}
        if isinstance(extra, str):
            extra = json.loads(extra) if extra.strip() else {}
        port = data.get("port")
        return ConnSpec(
            conn_id=conn_id,
            conn_type=data.get("conn_type"),
            host=data.get("host"),
            port=int(port) if port not in (None, "") else None,
            login=data.get("login"),
            password=data.get("password"),
            schema=data.get("schema"),
            extra=dict(extra),
        )
    parts = urlsplit(value)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    if "__extra__" in query:
        extra: dict[str, Any] = json.loads(query.pop("__extra__"))
    else:
        extra = dict(query)
    conn_type = parts.scheme.replace("-", "_") or None
    if conn_type == "postgresql":
        conn_type = "postgres"
    # Parsed by hand: urlsplit lowercases the host, and Airflow percent-encodes it (a socket dir is a path).
    userinfo, _, hostport = parts.netloc.rpartition("@")
    login, _, password = userinfo.partition(":")
    host, port = hostport, None
    match = re.fullmatch(r"(.*):(\d+)", hostport)
    if match:
        host, port = match.group(1), int(match.group(2))
    return ConnSpec(
        conn_id=conn_id,
        conn_type=conn_type,
        host=unquote(host) or None,
        port=port,
        login=unquote(login) or None,
        password=unquote(password) or None,
        schema=unquote(parts.path.lstrip("/")) or None,
        extra=extra,
    )


def get_connection(conn_id: str) -> ConnSpec:
    value = os.environ.get(env_var_name(conn_id))
    if not value:
        raise ConnectionNotFound(f"connection {conn_id!r} is not defined (set {env_var_name(conn_id)})")
    return parse_connection(conn_id, value)


def find_connection(conn_id: str) -> ConnSpec | None:
    try:
        return get_connection(conn_id)
    except ConnectionNotFound:
        return None


def postgres_conninfo(spec: ConnSpec) -> str:
    """A libpq conninfo string for a postgres connection."""
    from psycopg.conninfo import make_conninfo

    params: dict[str, Any] = {}
    host = spec.host or spec.extra.get("host")  # libpq-style URIs put a socket dir in ?host=
    if host:
        params["host"] = host
    if spec.port:
        params["port"] = spec.port
    if spec.login:
        params["user"] = spec.login
    if spec.password:
        params["password"] = spec.password
    if spec.schema:
        params["dbname"] = spec.schema
    for key in ("sslmode", "sslrootcert", "sslcert", "sslkey", "connect_timeout", "application_name", "options"):
        if key in spec.extra:
            params[key] = spec.extra[key]
    return make_conninfo(**params)


def postgres_airflow_json(conninfo: str) -> str:
    """The JSON form of AIRFLOW_CONN_* for a libpq conninfo (how we hand a database to Airflow)."""
    from psycopg.conninfo import conninfo_to_dict

    params = conninfo_to_dict(conninfo)
    return json.dumps({
        "conn_type": "postgres",
        "host": params.get("host"),
        "port": int(params["port"]) if params.get("port") else None,
        "login": params.get("user"),
        "password": params.get("password"),
        "schema": params.get("dbname"),
    })
