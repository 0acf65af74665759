"""`edfi-sync delete` end to end against the sandbox (SPEC §6.1's Delete Tool): a preview finds the
records that reference what is asked for and sends nothing; a run deletes exactly the plan, children
first, and keeps the identity map true; a key the ODS lacks, a dependent outside the identity map,
students and a plan run twice are each said clearly.

tests/fixtures/programs_small.sql on top of sync_small.sql (see test_programs_e2e.py): the program
Career and Technical Education is referenced by the CTE associations 501, 502 and 506.
"""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from e2e_helpers import WRITES, YEAR, sql, sync

pytestmark = pytest.mark.e2e
FIXTURE = Path(__file__).parent / "fixtures" / "programs_small.sql"
CTE = "studentCTEProgramAssociations"
CTE_PROGRAM = {"educationOrganizationId": "3500100", "programName": "Career and Technical Education",
               "programTypeDescriptor": "uri://ed-fi.org/ProgramTypeDescriptor#Career and Technical Education"}


@pytest.fixture
def programs_synced(small_sis, sandbox):
    sql(small_sis, FIXTURE.read_text())
    sync(small_sis)
    return small_sis


def delete(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "edfi_sync.cli", "delete", "--school-year", str(YEAR), *args],
                          capture_output=True, text=True, timeout=120)


def key_args(key: dict) -> list[str]:
    return [arg for name, value in key.items() for arg in ("--key", f"{name}={value}")]


def writes(sandbox, since: int = 0) -> list[tuple[str, str]]:
    return [(r["method"], r["path"].split("/ed-fi/")[1].split("/")[0]) for r in sandbox.requests(since)
            if r["method"] in WRITES and "/data/" in r["path"]]


def last(sandbox) -> int:
    return (sandbox.requests() or [{"seq": 0}])[-1]["seq"]


def plan_of(out: str) -> str:
    return re.search(r"^delete plan (\S+),", out, re.M).group(1)


def test_a_program_and_its_associations_preview_then_delete_children_first(programs_synced, sandbox):
    since = last(sandbox)
    preview = delete("--resource", "programs", *key_args(CTE_PROGRAM))
    assert preview.returncode == 0, preview.stderr
    assert writes(sandbox, since) == []  # a preview sends nothing
    assert "A preview: nothing was deleted." in preview.stdout
    assert "4 to delete, 3 dependents to delete" in preview.stdout
    plan = plan_of(preview.stdout)
    rows = sql(programs_synced, "SELECT seq, resource, role, action, in_identity_map, sis_object_key "
                                "FROM edfi_sync.delete_plan_record WHERE plan_id = %s ORDER BY seq", plan)
    assert [(r[1], r[2], r[3], r[4]) for r in rows] == [(CTE, "dependent", "delete", True)] * 3 + [
        ("programs", "target", "delete", True)]
    assert sorted(r[5] for r in rows[:3]) == ["501", "502", "506"]

    ran = delete("--plan", plan, "--delete")
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert writes(sandbox, since) == [("DELETE", CTE)] * 3 + [("DELETE", "programs")]
    assert sandbox.records(CTE) == []
    assert "Career and Technical Education" not in {p["programName"] for p in sandbox.records("programs")}
    # The identity map stays true: the deleted records left it, the others stayed.
    assert sql(programs_synced, "SELECT count(*) FROM edfi_sync.identity_map WHERE resource = %s", CTE) == [(0,)]
    assert sql(programs_synced, "SELECT sis_object_key FROM edfi_sync.identity_map WHERE resource = 'programs' "
                                "ORDER BY 1") == [("111",), ("title1",)]
    # ... so the next run sends them again, as the SIS still yields them.
    since = last(sandbox)
    sync(programs_synced)
    assert sorted(writes(sandbox, since)) == [("POST", "programs")] + [("POST", CTE)] * 3

    again = delete("--plan", plan, "--delete")  # a plan runs once
    assert again.returncode == 2 and "was already run by cli__" in again.stderr
    trail = json.loads(subprocess.run([sys.executable, "-m", "edfi_sync.cli", "report", "audit", "--format", "json"],
                                      capture_output=True, text=True, timeout=60, check=True).stdout)
    assert [(e["action"], e["origin"], e["outcome"], e["plan_id"]) for e in trail] == [
        ("delete", "cli", "refused", plan), ("delete", "cli", "done", plan), ("delete_preview", "cli", "previewed", plan)]
    assert trail[1]["result"] == {"to_delete": 4, "dependents_to_delete": 3, "deleted": 4}


def test_a_key_the_ods_lacks_is_said_and_nothing_is_deleted(programs_synced, sandbox):
    since = last(sandbox)
    missing = delete("--resource", "programs", *key_args({**CTE_PROGRAM, "programName": "Welding"}), "--delete")
    assert missing.returncode == 1
    assert re.search(r"keep\s+programs\s+target\s+.*programName=Welding.*not found in the ODS", missing.stdout)
    assert "1 not found" in missing.stdout and "Nothing here can be deleted." in missing.stdout
    assert writes(sandbox, since) == []
    bad = delete("--resource", "programs", "--key", "programName=Welding")
    assert bad.returncode == 2 and "missing educationOrganizationId, programTypeDescriptor" in bad.stderr
    students = delete("--resource", "students", "--key", "studentUniqueId=100000001")
    assert students.returncode == 2 and "students are never deleted" in students.stderr


def test_a_dependent_outside_the_identity_map_is_found_listed_and_deleted_only_when_chosen(programs_synced, sandbox,
                                                                                         tmp_path):
    # Another system's association with the program (student 7 has none of ours).
    theirs = sandbox.insert_record(CTE, {
        "beginDate": "2024-09-01", "educationOrganizationReference": {"educationOrganizationId": 3500100},
        "programReference": {**CTE_PROGRAM, "educationOrganizationId": 3500100},
        "studentReference": {"studentUniqueId": "100000007"}})
    since = last(sandbox)
    preview = delete("--resource", "programs", *key_args(CTE_PROGRAM), "--delete")
    assert preview.returncode == 1
    line = next(line for line in preview.stdout.splitlines() if theirs in line)
    assert re.search(rf"keep\s+{CTE}\s+dependent\s+100000007\s.*{theirs}\s+no\s+outside the identity map", line)
    # ours went, the program stayed: the ODS would refuse it while theirs references it
    assert writes(sandbox, since) == [("DELETE", CTE)] * 3
    assert [r["id"] for r in sandbox.records(CTE)] == [theirs]
    assert re.search(r"keep\s+programs\s+target.*a record that references it is kept", preview.stdout)

    # Chosen by its id (here from a CSV with the program's key), it goes, and the program after it.
    keys = write_csv(tmp_path / "keys.csv", [{"resource": CTE, "id": theirs}, {"resource": "programs", **CTE_PROGRAM}])
    ran = delete("--csv", str(keys), "--delete")
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert writes(sandbox, since)[3:] == [("DELETE", CTE), ("DELETE", "programs")]
    assert sandbox.records(CTE) == []


def write_csv(path: Path, rows: list[dict]) -> Path:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(dict.fromkeys(k for row in rows for k in row)))
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(buffer.getvalue())
    return path
