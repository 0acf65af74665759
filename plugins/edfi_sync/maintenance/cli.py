"""`edfi-sync maintenance`: the connector database's retention from the command line (what the
edfi_sync_maintenance DAG's database tasks do), with the ages of AIRFLOW_VAR_EDFI_SYNC_RETENTION."""

from __future__ import annotations

import argparse
import json
import os
import sys

from .. import db
from .retention import VARIABLE, Retention, RetentionPolicy


def maintenance(args: argparse.Namespace) -> int:
    try:
        policy = RetentionPolicy.from_setting(os.environ.get(f"AIRFLOW_VAR_{VARIABLE.upper()}"))
    except ValueError as exc:
        print(f"maintenance: {exc}", file=sys.stderr)
        return 2
    results = Retention(db.sis_conninfo(), policy).prune_database()
    if args.format == "json":
        json.dump([r.as_dict() for r in results], sys.stdout, indent=2)
        print()
    else:
        for result in results:
            print(result.describe())
    return 0
