"""`make soak` (issue 21): the reliability scenarios for as long as SOAK_MINUTES asks, then a summary.

Rounds alternate until the time is up (each round runs to its end):
- chaos: first, incremental and resync runs of every resource at demo scale SOAK_SCALE (default 2)
  under every fault of the issue, the sandbox killed and restarted amid each, each compared with
  the same run without faults in a fresh sandbox (tests/test_chaos.py is the bounded version);
- kill points: SOAK_KILLS_PER_ROUND (default 10) points drawn from the round's seed at scale 0.6,
  each rerun compared with what the rules produce (tests/test_kill_points.py is the bounded one).
`make soak` runs tests/test_airflow_reliability.py first, in the same session, so the summary also
holds the Airflow kills. SOAK_SEED fixes the seeds (printed either way). The summary is printed and
written as JSON to SOAK_REPORT (default bench/out/soak.json).
"""

from __future__ import annotations

import os
import random
import time
import uuid
from pathlib import Path

import pytest

from databases import create_database, drop_database
from e2e_helpers import api_env, demo_sandbox, load_demo, run_sync
from reliability import chaos_phase, chaos_world, draw_kill_points, survive

pytestmark = [pytest.mark.soak, pytest.mark.e2e]

REPO = Path(__file__).resolve().parents[1]
MINUTES = float(os.environ.get("SOAK_MINUTES") or 0)
CHAOS_SCALE = float(os.environ.get("SOAK_SCALE") or 2)
KILL_SCALE = 0.6
KILLS_PER_ROUND = int(os.environ.get("SOAK_KILLS_PER_ROUND") or 10)


def test_soak(pg_admin_conninfo, migrated_template, sis_db, tmp_path, reliability_tally):
    started = reliability_tally.started  # the session's first reliability test (make soak: the Airflow ones)
    deadline = started + MINUTES * 60
    base = int(os.environ.get("SOAK_SEED") or random.SystemRandom().randrange(1, 1_000_000))
    tally = reliability_tally
    print(f"\nsoak: {MINUTES:g} minutes, seed {base} (replay with SOAK_SEED={base}), chaos at scale {CHAOS_SCALE:g}")
    chaos_name = f"edfi_sync_soak_{uuid.uuid4().hex[:8]}"
    chaos_db = create_database(pg_admin_conninfo, chaos_name, migrated_template)
    kill_home, chaos_home = tmp_path / "kills", tmp_path / "chaos"
    kill_home.mkdir()
    chaos_home.mkdir()
    try:
        load_demo(KILL_SCALE, kill_home / "descriptors.json")
        with demo_sandbox(kill_home / "descriptors.json") as kill_server, \
                chaos_world(pg_admin_conninfo, migrated_template, chaos_db, CHAOS_SCALE, chaos_home, tally) as world:
            kill_env = api_env(kill_server)
            run_sync(kill_env)
            round_ = 0
            while round_ < 2 or time.monotonic() < deadline:
                seed = base + round_
                if round_ % 2 == 0:
                    for index, name in enumerate(("first", "incremental", "resync")):
                        phase = chaos_phase(name, world.test_db, world.sandbox, world.reference_db, world.reference,
                                            seed * 10 + index, tally, token_every=30)
                        print(f"  round {round_} chaos {name} ({phase.change}): {phase.run.seconds:.0f} s under faults"
                              f" (restart {phase.run.restart}), {phase.reference_seconds:.0f} s without; "
                              f"rerun {'needed' if phase.rerun else 'not needed'}", flush=True)
                        assert not phase.found, f"seed {seed}, {name}:\n" + "\n".join(phase.found.problems[:20])
                else:
                    kill_server.set_faults(latency={"distribution": "uniform", "min_ms": 2, "max_ms": 10}, seed=seed)
                    for point in draw_kill_points(seed, KILLS_PER_ROUND):
                        outcome = survive(point, sis_db, kill_server, kill_env, seed, tally)
                        print(f"  round {round_} kill {tally.kills[-1]['point']}: rerun {outcome.rerun_seconds:.0f} s",
                              flush=True)
                        assert not outcome.found, f"seed {seed}, {point}:\n" + "\n".join(outcome.found.problems[:20])
                round_ += 1
    finally:
        drop_database(pg_admin_conninfo, chaos_name)
        lines = tally.lines()
        print(f"\nsoak summary ({(time.monotonic() - started) / 60:.1f} minutes, seed {base}):")
        print("\n".join(f"  {line}" for line in lines))
        report = Path(os.environ.get("SOAK_REPORT") or REPO / "bench" / "out" / "soak.json")
        report.parent.mkdir(parents=True, exist_ok=True)
        tally.write(report)
        print(f"  (written to {report})")
    assert (tally.lost, tally.duplicated) == (0, 0)

