"""Peak memory of `edfi-sync sync` for ~100k students (SPEC §5.1: memory bounded whatever the
row count): demo data at a scale whose SIS yields >= 100k students, a full first sync of every
resource (LEAs, schools, students, studentSchoolAssociations) into the in-memory sandbox.

The sync runs in its own process, which reports its peak RSS (VmHWM) at exit; the sandbox's
memory (this process) is not counted. A smaller scale runs first, for comparison: bounded memory
means both peaks are about the same.

    python bench/sync_memory.py [--scales 24,240] [--max-in-flight 32] [--update]

--update also times a second sync after every student and enrollment changed (every record PUT,
the SSAs' natural keys changed): the update path must stay linear and flat in memory too.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _sync_common import (create_database, demo_template, embedded_server, map_counts, sync_env,  # noqa: E402
                          timed_sync, update_everything)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scales", default="24,240", help="demo-data scales (500 persons each, ~86%% students)")
    parser.add_argument("--max-in-flight", type=int, default=32)
    parser.add_argument("--update", action="store_true", help="also an update-everything sync")
    args = parser.parse_args()
    from edfi_sync.sandbox.testing import run_sandbox

    with embedded_server() as admin, tempfile.TemporaryDirectory() as scratch:
        for scale in (float(v) for v in args.scales.split(",")):
            descriptors = Path(scratch) / "descriptors.json"
            started = time.perf_counter()
            template, rows = demo_template(admin, scale, descriptors)
            print(f"demo data scale {scale:g}: {sum(rows.values()):,} SIS rows ({rows['sis.person']:,} persons, "
                  f"{rows['sis.enrollment']:,} enrollments) in {time.perf_counter() - started:.1f} s", flush=True)
            conninfo = create_database(admin, template)
            with run_sandbox(descriptor_files=[descriptors]) as server:
                env = sync_env(conninfo, server, args.max_in_flight)
                run = timed_sync(env, server)
                records = map_counts(conninfo)
                print(f"  first sync, max_in_flight {args.max_in_flight}: {sum(records.values()):,} records sent "
                      f"{records}")
                report(run)
                if args.update:
                    update_everything(conninfo)
                    print("  update-everything sync:")
                    report(timed_sync(env, server))


def report(run) -> None:
    print(f"  {run.requests:,} requests in {run.seconds:.1f} s: {run.rate:,.0f} req/s wall "
          f"({run.send_rate:,.0f} req/s while sending); statuses {run.statuses}")
    print(f"  peak RSS of the sync process: {run.peak_rss_mb:.0f} MB", flush=True)


if __name__ == "__main__":
    main()
