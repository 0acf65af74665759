"""Requests per second of a full first sync and of an update-everything sync, against the
in-memory sandbox at 0 and 20 ms added latency, for several max_in_flight values.

Each configuration gets a fresh copy of the same demo data and a fresh sandbox; the sync runs as
`edfi-sync sync` in its own process (the sandbox serves from a thread of this one).

    python bench/sync_throughput.py [--scale 4] [--latency-ms 0,20] [--max-in-flight 8,32]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _sync_common import (create_database, demo_template, embedded_server, map_counts, sync_env,  # noqa: E402
                          timed_sync, update_everything)

def line(label: str, run) -> str:
    return (f"  {label:<7} {run.requests:>6} requests {run.seconds:6.2f} s  {run.rate:7,.0f} req/s wall "
            f"({run.send_rate:7,.0f} req/s while sending)  peak {run.peak_rss_mb:5.0f} MB  statuses {run.statuses}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=4)
    parser.add_argument("--latency-ms", default="0,20")
    parser.add_argument("--max-in-flight", default="8,32")
    args = parser.parse_args()
    from edfi_sync.sandbox.testing import run_sandbox

    with embedded_server() as admin, tempfile.TemporaryDirectory() as scratch:
        descriptors = Path(scratch) / "descriptors.json"
        template, rows = demo_template(admin, args.scale, descriptors)
        print(f"demo data scale {args.scale:g}: {rows['sis.person']:,} persons, {rows['sis.enrollment']:,} "
              f"enrollments", flush=True)
        for latency in (float(v) for v in args.latency_ms.split(",")):
            for in_flight in (int(v) for v in args.max_in_flight.split(",")):
                conninfo = create_database(admin, template)
                with run_sandbox(descriptor_files=[descriptors]) as server:
                    server.set_faults(latency_ms=latency)
                    env = sync_env(conninfo, server, in_flight)
                    first = timed_sync(env, server)
                    update_everything(conninfo)
                    update = timed_sync(env, server)
                print(f"latency {latency:g} ms, max_in_flight {in_flight}: records {map_counts(conninfo)}")
                print(line("first", first))
                print(line("update", update), flush=True)


if __name__ == "__main__":
    main()
