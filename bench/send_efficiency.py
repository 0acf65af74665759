"""Latency efficiency of a whole `edfi-sync sync`: the achieved request rate divided by the latency
limit (max_in_flight ÷ latency), for a grid of max_in_flight × injected latency; `auto` against the
sandbox's capacity model; and the same records sent by lightbeam (PyPI) at equal concurrency.

Figures per cell: the whole sync (wall time of the process, start-up, extract, staging and
reconciliation GETs included) and "while sending" (the writes over the summed spans of the send
steps, first request start to last answer of each resource's writes). Cells whose limit exceeds
~2,000 requests/s are marked CPU-bound: the sync, its PostgreSQL and the sandbox share 2 cores.

    python bench/send_efficiency.py [--scale 4] [--latency-ms 5,20,100] [--max-in-flight 8,32]
        [--lightbeam 8:20,32:100] [--auto 32:20] [--repeat 1] [--json bench-send-efficiency.json]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _sync_common import WRITES, create_database, demo_template, embedded_server, sync_env, timed_sync  # noqa: E402

CPU_BOUND_RATE = 2_000


def resources() -> tuple[str, ...]:
    """Every resource the sync sends (the registry), so lightbeam sends the same records."""
    from edfi_sync.resources import RESOURCES

    return tuple(RESOURCES)


def send_steps(entries: list[dict]) -> list[dict]:
    """The send steps (a step = consecutive writes to one resource): writes and span, first
    request's start to last answer."""
    steps: list[dict] = []
    for entry in entries:
        if entry["method"] not in WRITES or not entry["path"].startswith("/data/"):
            continue
        resource = entry["path"].split("/")[-2 if entry["method"] != "POST" else -1]
        start, end = entry["time"] - entry["ms"] / 1000, entry["time"]
        if steps and steps[-1]["resource"] == resource:
            step = steps[-1]
            step["writes"] += 1
            step["start"], step["end"] = min(step["start"], start), max(step["end"], end)
        else:
            steps.append({"resource": resource, "writes": 1, "start": start, "end": end})
    return [{"resource": step["resource"], "writes": step["writes"], "seconds": round(step["end"] - step["start"], 3)}
            for step in steps]


def send_spans(entries: list[dict]) -> tuple[int, float]:
    """Writes and the summed spans of the send steps."""
    steps = send_steps(entries)
    return sum(step["writes"] for step in steps), sum(step["seconds"] for step in steps)


def where_the_time_goes(seconds: float, entries: list[dict], send_seconds: float) -> dict:
    """The process's wall time split: before the first request and after the last (start-up, exit),
    between the send steps (extract, staging, diff, reconciliation GETs), and the send steps; plus
    the server's own mean latency for writes (the injected latency and its processing)."""
    data = [e for e in entries if e["path"].startswith("/data/")]
    first = min(e["time"] - e["ms"] / 1000 for e in data)
    last = max(e["time"] for e in data)
    write_ms = [e["ms"] for e in data if e["method"] in WRITES]
    return {"outside_requests_s": round(seconds - (last - first), 3),
            "between_send_steps_s": round(last - first - send_seconds, 3),
            "gets": sum(e["method"] == "GET" for e in data),
            "server_ms_mean": round(statistics.mean(write_ms), 2) if write_ms else None}


def sync_cell(admin: str, template: str, descriptors: Path, in_flight, latency: float,
              capacity: int | None = None) -> dict:
    from edfi_sync.sandbox.testing import run_sandbox

    conninfo = create_database(admin, template)
    with run_sandbox(descriptor_files=[descriptors]) as server:
        server.set_faults(latency_ms=latency, capacity=capacity)
        cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
        run = timed_sync(sync_env(conninfo, server, in_flight), server)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        log = server.requests()
        records = {name: server.records(name) for name in resources()}
    writes, span = send_spans(log)
    cell = {"max_in_flight": in_flight, "latency_ms": latency, "seconds": round(run.seconds, 3),
            "requests": run.requests, "writes": writes, "send_seconds": round(span, 3),
            "peak_rss_mb": round(run.peak_rss_mb, 1), "statuses": run.statuses,
            "sync_cpu_s": round(after.ru_utime + after.ru_stime - cpu.ru_utime - cpu.ru_stime, 2),
            **where_the_time_goes(run.seconds, log, span)}
    if in_flight != "auto":
        limit = in_flight / (latency / 1000)
        cell.update(limit_rate=round(limit), cpu_bound=limit > CPU_BOUND_RATE,
                    efficiency_whole=round(run.requests / run.seconds / limit, 3),
                    efficiency_sending=round(writes / span / limit, 3) if span else None,
                    steps=[{**step, "efficiency": round(step["writes"] / step["seconds"] / limit, 3)}
                           for step in send_steps(log) if step["seconds"]])
    else:
        busy = [e["in_flight"] for e in log if e["method"] in WRITES]
        tail = busy[len(busy) // 2:]
        cell.update(capacity=capacity, in_flight_median_second_half=statistics.median(tail) if tail else None,
                    in_flight_max=max(busy, default=None),
                    rate_sending=round(writes / span) if span else None,
                    capacity_rate=round(capacity / (latency / 1000)) if capacity else None)
    return cell, records


def strip_server_fields(value):
    if isinstance(value, dict):
        return {k: strip_server_fields(v) for k, v in value.items() if k not in ("id", "link") and not k.startswith("_")}
    if isinstance(value, list):
        return [strip_server_fields(v) for v in value]
    return value


def lightbeam_cell(records: dict[str, list[dict]], descriptors: Path, in_flight: int, latency: float) -> dict:
    """The records the sync left in the ODS, sent by `lightbeam send` to a fresh sandbox."""
    from edfi_sync.sandbox.testing import lightbeam_config, run_sandbox

    with tempfile.TemporaryDirectory() as scratch:
        data = Path(scratch) / "data"
        data.mkdir()
        for name, rows in records.items():
            (data / f"{name}.jsonl").write_text("".join(json.dumps(strip_server_fields(r)) + "\n" for r in rows))
        with run_sandbox(descriptor_files=[descriptors]) as server:
            server.set_faults(latency_ms=latency)
            config = Path(scratch) / "lightbeam.yaml"
            config.write_text(lightbeam_config(server, Path(scratch) / "state", data, pool_size=in_flight, timeout=60))
            server.clear_requests()
            started = time.perf_counter()
            result = subprocess.run([str(Path(sys.executable).parent / "lightbeam"), "send", "-c", str(config)],
                                    capture_output=True, text=True, timeout=1800)
            seconds = time.perf_counter() - started
            if result.returncode != 0:
                raise SystemExit(f"lightbeam failed:\n{result.stderr[-3000:]}")
            log = server.requests()
            sent = {name: len(server.records(name)) for name in resources()}
    expected = {name: len(rows) for name, rows in records.items()}
    if sent != expected:
        raise SystemExit(f"lightbeam left {sent}, expected {expected}")
    writes, span = send_spans(log)
    limit = in_flight / (latency / 1000)
    return {"seconds": round(seconds, 3), "writes": writes, "send_seconds": round(span, 3),
            **where_the_time_goes(seconds, log, span),
            "efficiency_whole": round(len([e for e in log if e["path"].startswith("/data/")]) / seconds / limit, 3),
            "efficiency_sending": round(writes / span / limit, 3) if span else None}


def breakdown(cell: dict) -> str:
    steps = ", ".join(f"{step['resource']} {step['writes']} in {step['seconds']:.2f} s"
                      + (f" ({step['efficiency']:.3f})" if "efficiency" in step else "") for step in cell.get("steps", []))
    return (f"\n      time: {cell['outside_requests_s']:.2f} s before/after the requests, {cell['between_send_steps_s']:.2f} s "
            f"between send steps, {cell['send_seconds']:.2f} s sending; {cell['gets']} GETs; server "
            f"{cell['server_ms_mean']} ms a write"
            + (f"; the sync process used {cell['sync_cpu_s']} s of CPU" if "sync_cpu_s" in cell else "")
            + (f"\n      steps: {steps}" if steps else ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=4)
    parser.add_argument("--latency-ms", default="5,20,100")
    parser.add_argument("--max-in-flight", default="8,32")
    parser.add_argument("--lightbeam", default="8:20,32:100", help="in_flight:latency cells compared with lightbeam")
    parser.add_argument("--auto", default="32:100", help="capacity:latency cells for max_in_flight auto ('' = none)")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--json", default="bench-send-efficiency.json")
    args = parser.parse_args()
    pairs = lambda text: [tuple(float(v) for v in item.split(":")) for item in text.split(",") if item]  # noqa: E731
    compare = {(int(n), lat) for n, lat in pairs(args.lightbeam)}
    results = {"scale": args.scale, "grid": [], "auto": [], "lightbeam": []}
    with embedded_server() as admin, tempfile.TemporaryDirectory() as scratch:
        descriptors = Path(scratch) / "descriptors.json"
        template, rows = demo_template(admin, args.scale, descriptors)
        print(f"demo data scale {args.scale:g}: {rows['sis.person']:,} persons", flush=True)
        for _ in range(args.repeat):
            for latency in (float(v) for v in args.latency_ms.split(",") if v):
                for in_flight in (int(v) for v in args.max_in_flight.split(",") if v):
                    cell, records = sync_cell(admin, template, descriptors, in_flight, latency)
                    results["grid"].append(cell)
                    print(f"{in_flight:>3} in flight, {latency:>5g} ms: {cell['seconds']:6.2f} s, "
                          f"{cell['requests']} requests, efficiency whole {cell['efficiency_whole']:.3f}, "
                          f"while sending {cell['efficiency_sending']:.3f}"
                          f"{'  [CPU-bound]' if cell['cpu_bound'] else ''}{breakdown(cell)}", flush=True)
                    if (in_flight, latency) in compare:
                        beam = lightbeam_cell(records, descriptors, in_flight, latency)
                        beam.update(max_in_flight=in_flight, latency_ms=latency, sync_seconds=cell["seconds"],
                                    ratio=round(cell["seconds"] / beam["seconds"], 3))
                        results["lightbeam"].append(beam)
                        print(f"    lightbeam {beam['seconds']:6.2f} s (efficiency whole {beam['efficiency_whole']:.3f}, "
                              f"while sending {beam['efficiency_sending']:.3f}): sync/lightbeam = {beam['ratio']:.3f}"
                              f"{breakdown(beam)}", flush=True)
            for capacity, latency in pairs(args.auto):
                cell, _ = sync_cell(admin, template, descriptors, "auto", latency, int(capacity))
                results["auto"].append(cell)
                print(f"auto, capacity {int(capacity)}, {latency:g} ms: {cell['seconds']:6.2f} s, in flight median "
                      f"(second half) {cell['in_flight_median_second_half']}, max {cell['in_flight_max']}, "
                      f"{cell['rate_sending']} req/s while sending (capacity {cell['capacity_rate']} req/s)", flush=True)
    Path(args.json).write_text(json.dumps(results, indent=2))
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
