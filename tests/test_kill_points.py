"""Crashes (issue 21, SPEC §5.5): `edfi-sync sync` killed (-9) at points drawn at random from a seed
over runs of every resource: inside the sends, inside the transaction that writes a group of answers,
as a step begins, amid a step's extract and staging, amid a SAR's DELETE/POST and its transcripts,
amid a program re-key after a mapping change. Each rerun converges: the ODS holds what the rules
produce (nothing lost, nothing twice), the identity map is the ODS, and the killed run is abandoned.

`make test` draws a few points (EDFI_SYNC_KILL_POINTS, default 3) from a new seed each time and
prints it; EDFI_SYNC_KILL_SEED=<seed> replays a draw. `make soak` draws many more (tests/test_soak.py).
"""

from __future__ import annotations

import os
import random

import pytest

from e2e_helpers import api_env, demo_sandbox, load_demo, run_sync
from reliability import draw_kill_points, survive

pytestmark = pytest.mark.e2e

SCALE = 0.2  # ~100 students: ~850 writes in a first run


def kill_seed() -> int:
    return int(os.environ.get("EDFI_SYNC_KILL_SEED") or random.SystemRandom().randrange(1, 1_000_000))


def test_kill_points_drawn_at_random_each_rerun_converges(sis_db, tmp_path, reliability_tally):
    seed, count = kill_seed(), int(os.environ.get("EDFI_SYNC_KILL_POINTS", "3"))
    print(f"\nkill points: seed {seed} (replay with EDFI_SYNC_KILL_SEED={seed})")
    descriptors = tmp_path / "descriptors.json"
    load_demo(SCALE, descriptors)
    tally = reliability_tally
    with demo_sandbox(descriptors) as server:
        server.set_faults(latency={"distribution": "uniform", "min_ms": 2, "max_ms": 10}, seed=seed)
        env = api_env(server)
        run_sync(env)
        for point in draw_kill_points(seed, count):
            outcome = survive(point, sis_db, server, env, seed, tally)
            print(f"  {tally.kills[-1]['point']}: rerun {outcome.rerun_seconds:.1f} s, sent {dict(outcome.rerun_writes)}")
            assert not outcome.found, f"seed {seed}, {point}:\n" + "\n".join(outcome.found.problems[:20])
    assert (tally.lost, tally.duplicated) == (0, 0)
