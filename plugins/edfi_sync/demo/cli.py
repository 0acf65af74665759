"""``edfi-sync demo-data --scale N [--seed S] [--school-year Y] [--descriptors-out FILE]``."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from .. import db
from ..paths import sync_home
from .config import write_descriptors
from .load import ForeignData, replace_demo_data
from .world import build


def demo_data(args: argparse.Namespace) -> int:
    if not args.scale > 0:
        print("demo-data: --scale must be greater than 0", file=sys.stderr)
        return 2
    started = time.perf_counter()
    conninfo = db.sis_conninfo()
    db.init_schema(conninfo)
    world = build(args.seed, args.scale, args.school_year)
    try:
        report = replace_demo_data(conninfo, world, args.scale, replace_foreign=args.replace_existing)
    except ForeignData:
        print(f"demo-data: {db.describe(conninfo)} already holds SIS data that demo-data did not write; "
              f"nothing was changed. Point AIRFLOW_CONN_EDFI_SIS at a scratch database, or pass "
              f"--replace-existing to wipe it.", file=sys.stderr)
        return 2
    loaded = report.loaded
    descriptors = write_descriptors(Path(args.descriptors_out) if args.descriptors_out
                                    else sync_home() / "demo-descriptors.json")
    width = max(len(item.table) for item in loaded)
    print(f"demo-data: scale {args.scale:g}, seed {args.seed}, school year {args.school_year} "
          f"into {db.describe(conninfo)}")
    for item in loaded:
        print(f"  {item.table:<{width}} {item.rows:>10,} rows {item.seconds:7.2f}s")
    print(f"  {'(sis keys and indexes re-created: ' + str(report.rebuilt) + ')':<{width}} {'':>15} "
          f"{report.rebuild_seconds:7.2f}s")
    total = sum(item.rows for item in loaded)
    print(f"  {'total':<{width}} {total:>10,} rows {time.perf_counter() - started:7.2f}s")
    print(f"local descriptors for the sandbox: {descriptors} (edfi-sync sandbox serve --descriptors {descriptors})")
    return 0
