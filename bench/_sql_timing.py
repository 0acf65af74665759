"""Per-statement SQL timing of one process, for profiling: every psycopg execute, executemany,
COPY block and server-side fetch is timed and attributed to the include/sql/ file it runs.
Imported by the bench launcher when EDFI_SYNC_BENCH_SQL_TIMING names an output file; the
figures land there as JSON at exit ({statement: [calls, seconds]}).
"""

from __future__ import annotations

import atexit
import json
import os
import time
from collections import defaultdict

import psycopg

from edfi_sync.paths import SQL_DIR

_NAMES = {path.read_text(encoding="utf-8"): str(path.relative_to(SQL_DIR).with_suffix(""))
          for path in SQL_DIR.rglob("*.sql")}
_TOTALS: dict[str, list] = defaultdict(lambda: [0, 0.0])
_SERVER_NAMES: dict[int, str] = {}


def _name(query) -> str:
    text = query if isinstance(query, str) else getattr(query, "as_string", lambda _: str(query))(None)
    return _NAMES.get(text, "other: " + " ".join(str(text).split())[:60])


def _timed(method, label=None):
    def wrapper(self, query, *args, **kwargs):
        name = label or _name(query)
        started = time.perf_counter()
        try:
            return method(self, query, *args, **kwargs)
        finally:
            total = _TOTALS[name]
            total[0] += 1
            total[1] += time.perf_counter() - started
    return wrapper


class _TimedCopy:
    def __init__(self, inner, name):
        self.inner, self.name = inner, name

    def __enter__(self):
        self.started = time.perf_counter()
        return self.inner.__enter__()

    def __exit__(self, *exc):
        try:
            return self.inner.__exit__(*exc)
        finally:
            total = _TOTALS[self.name]
            total[0] += 1
            total[1] += time.perf_counter() - self.started


def install(out: str) -> None:
    cursor = psycopg.Cursor
    cursor.execute = _timed(cursor.execute)
    cursor.executemany = _timed(cursor.executemany)
    copy = cursor.copy
    cursor.copy = lambda self, statement, *a, **k: _TimedCopy(copy(self, statement, *a, **k), _name(statement) + " (block)")
    server = psycopg.ServerCursor
    server_execute = server.execute

    def execute(self, query, *args, **kwargs):
        _SERVER_NAMES[id(self)] = _name(query)  # ServerCursor has __slots__
        return _timed(server_execute, _SERVER_NAMES[id(self)] + " (declare)")(self, query, *args, **kwargs)
    server.execute = execute
    fetchmany = server.fetchmany

    def timed_fetchmany(self, *args, **kwargs):
        return _timed(lambda s, q, *a, **k: fetchmany(s, *a, **k), _SERVER_NAMES.get(id(self), "?") + " (fetch)")(
            self, None, *args, **kwargs)
    server.fetchmany = timed_fetchmany

    def dump() -> None:
        with open(out, "w") as handle:
            json.dump({k: [v[0], round(v[1], 4)] for k, v in sorted(_TOTALS.items(), key=lambda kv: -kv[1][1])},
                      handle, indent=1)
    atexit.register(dump)


if os.environ.get("EDFI_SYNC_BENCH_SQL_TIMING"):
    install(os.environ["EDFI_SYNC_BENCH_SQL_TIMING"])
