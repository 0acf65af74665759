"""Peak memory of `edfi-sync sync` against the number of records of one resource (issue 20: flat,
and at most 400 MB, from 100k to 1M records). A synthetic SIS of N students (bench/sql/
many_students.sql), a first sync of `students` (with the LEA and school it needs) into the in-memory
sandbox; the sync runs in its own process, which reports its peak RSS (VmHWM).

    python bench/record_memory.py [--records 100000,1000000] [--max-in-flight 32] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _sync_common import create_database, embedded_server, sync_env, timed_sync  # noqa: E402

SIS = Path(__file__).resolve().parent / "sql" / "many_students.sql"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", default="100000,1000000")
    parser.add_argument("--max-in-flight", type=int, default=32)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    import psycopg

    from edfi_sync import db
    from edfi_sync.sandbox.testing import run_sandbox

    results = []
    with embedded_server() as admin:
        for records in (int(v) for v in args.records.split(",") if v):
            conninfo = create_database(admin)
            db.init_schema(conninfo)
            with psycopg.connect(conninfo) as conn:
                for statement in filter(str.strip, SIS.read_text().split(";\n")):
                    conn.execute(statement, {"students": records} if "%(" in statement else None)
            with run_sandbox() as server:
                run = timed_sync(sync_env(conninfo, server, args.max_in_flight), server, timeout=7200,
                                 extra_args=("--resource", "students"))
            results.append({"records": records, "seconds": round(run.seconds, 1), "requests": run.requests,
                            "peak_rss_mb": round(run.peak_rss_mb, 1), "statuses": run.statuses})
            print(f"{records:,} students: {run.requests:,} requests in {run.seconds:.1f} s, "
                  f"peak RSS of the sync process {run.peak_rss_mb:.0f} MB", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps({"memory": results}, indent=2))
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
