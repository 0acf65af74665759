"""Benchmark of `edfi-sync demo-data` at scale 1, 10 and 100: rows per table and seconds.

Runs against a throwaway embedded PostgreSQL in a temporary EDFI_SYNC_HOME (stopped and removed at
the end), unless AIRFLOW_CONN_EDFI_SIS names a database to use instead. Not a test: it prints.

    .venv/bin/python bench/demo_data_scale.py [SCALE ...]
"""

from __future__ import annotations

import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path


def main(scales: list[float]) -> int:
    home = Path(tempfile.mkdtemp(prefix="edfi-sync-bench-"))
    os.environ["EDFI_SYNC_HOME"] = str(home)
    from edfi_sync import db, embedded
    from edfi_sync.demo.load import replace_demo_data
    from edfi_sync.demo.world import build

    try:
        conninfo = db.sis_conninfo()
        db.init_schema(conninfo)
        results = []
        for scale in scales:
            started = time.perf_counter()
            loaded = replace_demo_data(conninfo, build(2025, scale, 2025), scale).loaded
            results.append((scale, loaded, time.perf_counter() - started))
        names = [item.table for item in results[0][1]]
        width = max(map(len, names))
        print(f"{'table':<{width}}" + "".join(f"{f'scale {scale:g}':>14}" for scale, _, _ in results))
        for i, name in enumerate(names):
            print(f"{name:<{width}}" + "".join(f"{loaded[i].rows:>14,}" for _, loaded, _ in results))
        print(f"{'total rows':<{width}}" + "".join(f"{sum(x.rows for x in loaded):>14,}" for _, loaded, _ in results))
        print(f"{'seconds':<{width}}" + "".join(f"{seconds:>14.1f}" for _, _, seconds in results))
        print(f"peak memory of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    finally:
        embedded.stop(home)
        shutil.rmtree(home, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main([float(arg) for arg in sys.argv[1:]] or [1, 10, 100]))
