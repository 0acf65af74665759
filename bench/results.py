"""The issue-20 figures side by side in one run: cost against change size, non-sending throughput,
the whole sync against lightbeam, peak memory against records, the DAG runs against the CLI.
Writes bench/results/<set>.json (with the commit measured and each goal's verdict) and
bench/results/<set>.png (time vs change size, memory vs records).

    python bench/results.py quick    # make bench-quick: scale 2, every figure, <= 5 minutes
    python bench/results.py full     # make bench: scale 100, 1M records (not in CI)
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"

SETS = {
    "quick": {"scale": 2, "changes": "0,1,5,20", "records": "10000,50000", "lightbeam_scale": 2,
              "airflow_scale": 1},
    "full": {"scale": 100, "changes": "0,1,5,20", "records": "100000,1000000", "lightbeam_scale": 4,
             "airflow_scale": 10},
}
# (max_in_flight, latency ms) of the lightbeam comparison (the two cells)
LIGHTBEAM = ((8, 20), (32, 100))


def run(script: str, *args: str) -> dict:
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        started = time.perf_counter()
        subprocess.run([sys.executable, str(HERE / script), *args, "--json", out.name], check=True)
        print(f"   ({script}: {time.perf_counter() - started:.0f} s)", flush=True)
        return json.loads(Path(out.name).read_text())


def commit() -> str:
    head = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, cwd=HERE).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True,
                           text=True, cwd=HERE).stdout.strip()
    return head + ("-dirty" if dirty else "")


def goals(result: dict) -> dict:
    """Each goal of the issue with the figure it is judged on."""
    change = {c["percent"]: c for c in result["change_cost"]["changes"]}
    memory = result["memory"]
    noop, small = change.get(0.0), change.get(1.0)
    verdict = {
        "noop_requests_zero": noop is not None and noop["requests"] == 0,
        "noop_at_most_5pct_of_first": noop is not None and noop["ratio_to_first"] <= 0.05,
        "small_change_at_most_10pct_of_first": small is not None and small["ratio_to_first"] <= 0.10,
        "non_sending_30k_records_per_cpu_s": (result["change_cost"]["non_sending"]["records_per_cpu_s"] or 0) >= 30_000,
        "lightbeam_ratio_at_most_0.9": all(cell["ratio"] <= 0.9 for cell in result["lightbeam"]),
        "memory_at_most_400mb": all(m["peak_rss_mb"] <= 400 for m in memory),
        "memory_flat": max(m["peak_rss_mb"] for m in memory) <= 1.25 * min(m["peak_rss_mb"] for m in memory),
        "airflow_first_within_1.5x_cli": result["airflow"]["airflow"]["first"]["ratio_to_cli"] <= 1.5,
    }
    return verdict


def chart(result: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cost = result["change_cost"]
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    changes = sorted(cost["changes"], key=lambda c: c["percent"])
    left.plot([c["percent"] for c in changes], [c["seconds"] for c in changes], "o-", label="incremental sync")
    left.axhline(cost["first"]["seconds"], color="grey", linestyle="--", label="first sync")
    for c in changes:
        left.annotate(f"{c['requests']:,} req", (c["percent"], c["seconds"]), textcoords="offset points",
                      xytext=(4, 6), fontsize=8)
    left.set_xlabel("students whose SIS data changed (%)")
    left.set_ylabel("wall time of `edfi-sync sync` (s)")
    left.set_title(f"time vs change size (scale {cost['scale']:g}, {cost['first']['records']:,} records, "
                   f"{cost['max_in_flight']} x {cost['latency_ms']:g} ms)", fontsize=9)
    left.set_ylim(bottom=0)
    left.legend(fontsize=8)
    memory = result["memory"]
    right.plot([m["records"] for m in memory], [m["peak_rss_mb"] for m in memory], "o-")
    right.axhline(400, color="red", linestyle=":", label="goal: 400 MB")
    right.set_xscale("log")
    right.set_xlabel("records of one resource (students)")
    right.set_ylabel("peak RSS of the sync process (MB)")
    right.set_title("memory vs records (first sync)", fontsize=9)
    right.set_ylim(0, 450)
    right.legend(fontsize=8)
    fig.suptitle(f"edfi-sync cost of change ({result['set']}, commit {result['commit'][:10]})", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    name = sys.argv[1] if len(sys.argv) > 1 else "quick"
    config = SETS[name]
    RESULTS.mkdir(exist_ok=True)
    started = time.perf_counter()
    result = {"set": name, "commit": commit(), "measured_at": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    print(f"== change cost, scale {config['scale']}", flush=True)
    result["change_cost"] = run("change_cost.py", "--scale", str(config["scale"]), "--changes", config["changes"],
                                "--latency-ms", "20", "--max-in-flight", "32", "--sql-timing")
    print("== the same records through lightbeam, equal concurrency", flush=True)
    result["lightbeam"] = []
    for in_flight, latency in LIGHTBEAM:
        cells = run("send_efficiency.py", "--scale", str(config["lightbeam_scale"]), "--latency-ms", str(latency),
                    "--max-in-flight", str(in_flight), "--lightbeam", f"{in_flight}:{latency}", "--auto", "")
        result["lightbeam"] += cells["lightbeam"]
    print("== memory against records", flush=True)
    result["memory"] = run("record_memory.py", "--records", config["records"])["memory"]
    print(f"== the same first sync and no-op as edfi_sync DAG runs, scale {config['airflow_scale']}", flush=True)
    result["airflow"] = run("airflow_cost.py", "--scale", str(config["airflow_scale"]), "--latency-ms", "20",
                            "--max-in-flight", "32")
    result["goals"] = goals(result)
    result["seconds"] = round(time.perf_counter() - started)
    out = RESULTS / f"{name}.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    chart(result, RESULTS / f"{name}.png")
    print(json.dumps(result["goals"], indent=2))
    print(f"wrote {out} and {out.with_suffix('.png')} in {result['seconds']} s")


if __name__ == "__main__":
    main()
