"""What the ODS holds (SPEC §5 resync and reconciliation): GETs only."""

from __future__ import annotations

import json
import logging
from collections import Counter
from typing import TYPE_CHECKING

from ..hooks.client import EdFiUnavailable
from ..resources.base import ResourceDefinition
from . import queries
from .stage import natural_key_hash

if TYPE_CHECKING:
    from .runner import YearSync

log = logging.getLogger(__name__)

PAGE_SIZE = 500


def school_ids(record: dict) -> set[str]:
    """Ed-Fi schoolIds an ODS record relates to (for per-school resync of strays)."""
    found = {str(record["schoolId"])} if "schoolId" in record else set()
    reference = record.get("schoolReference")
    if isinstance(reference, dict) and "schoolId" in reference:
        found.add(str(reference["schoolId"]))
    return found


def fetch(run: "YearSync", definition: ResourceDefinition, counts: Counter) -> int:
    """Resync: page through the resource in the ODS, stage what it holds, drop map rows it lacks."""
    path = run.settings.resource_path(definition.name, run.end_year)
    params = {**run.ids, "resource": definition.name,
              "schools": list(run.options.schools) if run.options.schools else None}
    client = run.client()
    total, offset = 0, 0
    with run.conn.transaction():
        run.conn.execute(queries.engine("ods_clear"), params)
        while True:
            response = run.loop_run(client.request("GET", path, params={"offset": offset, "limit": PAGE_SIZE}))
            if not response.ok:
                raise EdFiUnavailable(f"resync of {definition.name}: GET {path} answered {response.status}")
            page = response.body or []
            with run.conn.cursor().copy(queries.engine("ods_copy")) as copy:
                for item in page:
                    key, hashed = natural_key_hash(definition, item)
                    copy.write_row((run.run_id, run.end_year, definition.name, item["id"], hashed,
                                    json.dumps(key), list(school_ids(item))))
            total += len(page)
            if len(page) < PAGE_SIZE:
                break
            offset += PAGE_SIZE
        run.conn.execute(queries.engine("analyze_ods_record"))
        dropped = run.conn.execute(queries.engine("resync_drop_missing"),
                                   {**params, "dry_run": run.options.dry_run}).fetchone()[0]
    counts["ods_records"] = total
    if dropped:
        counts["would_map_drop" if run.options.dry_run else "map_dropped"] = dropped
        log.info("resync %s: %d identity-map rows have no ODS record%s", definition.name, dropped,
                 " (dry run: kept)" if run.options.dry_run else " and were dropped")
    return total


def total(run: "YearSync", definition: ResourceDefinition) -> int | None:
    """Reconciliation: the ODS's Total-Count for the resource."""
    path = run.settings.resource_path(definition.name, run.end_year)
    response = run.loop_run(run.client().request("GET", path, params={"limit": 1, "totalCount": "true"}))
    value = response.headers.get("total-count") if response.ok else None
    return int(value) if value is not None and value.isdigit() else None
