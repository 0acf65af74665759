"""Time of a first sync against the number of student partitions (SPEC §6.1), at demo scale 20
with the sandbox at 20 ms: `edfi-sync sync --partitions N` posts each student-level resource in N
processes at once, all within the connection's one in-flight budget. The speed-up grows until the
budget (max_in_flight ÷ latency requests a second) or the machine is the limit.

Also the budget's own cost: one sender alone, with and without the shared budget (the same
requests, the same limit), judged by the sandbox's in-flight log, and the time of one keeper tick.
Per run, where the CPU went (seconds): the sync and its partition workers, the sandbox (this
process), PostgreSQL (every backend); with the load average, since the 2-core machine is shared.
And what a partition's extract costs: each student-level extract whole, against the sum of its N
partitions' (the partition filter is in the extract, so the sum should stay near the whole).

    python bench/partition_speedup.py [--scale 20] [--latency-ms 20] [--max-in-flight 16] [--partitions 1,2,4,8]
        [--json bench/results/partition_speedup.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _sync_common import (YEAR, create_database, demo_template, embedded_server, map_counts, sync_env,  # noqa: E402
                          timed_sync)


def in_flight(log: list[dict], budget: int) -> dict[str, float]:
    """The server's view: the most requests it served at once, the time-weighted mean while the
    sync sent (first to last request), and the share of requests that arrived at the budget."""
    busy = [e for e in log if e["path"].startswith("/data/")]
    if not busy:
        return {}
    begin = min(e["time"] - e["ms"] / 1000 for e in busy)
    end = max(e["time"] for e in busy)
    served = sum(e["ms"] / 1000 for e in busy)
    return {"max": max(e["in_flight"] for e in busy), "mean_while_sending": round(served / (end - begin), 2),
            "arrived_at_budget": round(sum(e["in_flight"] >= budget for e in busy) / len(busy), 3)}


def _stat(pid) -> list[str]:
    """/proc/<pid>/stat from its third field (state, ppid, ...): the name may hold spaces."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def _ticks(fields: list[str], children: bool) -> int:
    """utime + stime (and cutime + cstime: the children it reaped)."""
    return int(fields[11]) + int(fields[12]) + (int(fields[13]) + int(fields[14]) if children else 0)


def postgres_cpu(conninfo: str) -> float:
    """CPU seconds of the PostgreSQL server so far: its postmaster with every backend it reaped,
    and the live ones (/proc: user + system time)."""
    import psycopg

    with psycopg.connect(conninfo) as conn:
        backend = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
    postmaster = int(_stat(backend)[1])
    total = _ticks(_stat(postmaster), children=True)
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = _stat(entry.name)
            except OSError:  # gone meanwhile
                continue
            if int(fields[1]) == postmaster:
                total += _ticks(fields, children=False)
    return total / os.sysconf("SC_CLK_TCK")


def cpu_now(conninfo: str) -> dict[str, float]:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"sync_and_workers": children.ru_utime + children.ru_stime, "sandbox": own.ru_utime + own.ru_stime,
            "postgres": postgres_cpu(conninfo)}


def extract_cost(conninfo: str, counts: list[int], year: int = YEAR) -> dict[str, dict[str, float]]:
    """Seconds of each student-level extract whole, and summed over N partitions, as a stage runs
    it (into its temporary table, with each row's digest)."""
    import psycopg

    from edfi_sync.engine import memo, queries
    from edfi_sync.resources import RESOURCES
    from edfi_sync.rules.common import SchoolYear

    result: dict[str, dict[str, float]] = {}
    with psycopg.connect(conninfo, autocommit=True) as conn:  # each extract its own transaction
        school_year = SchoolYear.from_setup(year, *(conn.execute(queries.engine("school_year"),
                                                                {"end_year": year}).fetchone() or ()))
        for name, definition in RESOURCES.items():
            if not definition.partitioned:
                continue
            params = {"end_year": year, "year_start": school_year.start, "year_end": school_year.end,
                      **dict(definition.extract_params)}
            row = result[name] = {}
            for count in [1, *counts]:  # the first: a warm cache
                started = time.perf_counter()
                for index in range(count):
                    with conn.transaction():
                        memo.extract(conn, definition, {**params, "partition": index, "partitions": count})
                row[str(count)] = round(time.perf_counter() - started, 2)
    return result


def budget_overhead(conninfo: str, descriptors: Path, latency: float, budget: int, count: int = 3000) -> dict:
    """One client sending ``count`` GETs, with and without the shared budget."""
    from edfi_sync.hooks.budget import SharedBudget
    from edfi_sync.hooks.client import AdaptiveLimit, EdFiClient, EdFiSettings
    from edfi_sync.sandbox.testing import run_sandbox

    async def send(server, shared: bool) -> float:
        settings = EdFiSettings(base_url=server.base_url, client_key=server.key, client_secret=server.secret,
                                max_in_flight=budget)
        async with EdFiClient(settings, budget_conninfo=conninfo if shared else None) as client:
            await client.request("GET", "/data/v3/ed-fi/students", params={"limit": 1})  # the token
            server.clear_requests()
            started = time.perf_counter()
            await client.sending(asyncio.gather(*(client.request("GET", "/data/v3/ed-fi/students",
                                                                 params={"limit": 1}) for _ in range(count))))
            return time.perf_counter() - started

    result = {}
    with run_sandbox(descriptor_files=[descriptors]) as server:
        server.set_faults(latency_ms=latency)
        for label, shared in (("without", False), ("with", True)):
            seconds = asyncio.run(send(server, shared))
            result[label] = {"seconds": round(seconds, 2), "rate": round(count / seconds, 1),
                             "in_flight": in_flight(server.requests(), budget)}

    async def ticks() -> list[float]:
        keeper = SharedBudget(conninfo, "bench", AdaptiveLimit(budget))
        times = []
        async with keeper.sending():
            for _ in range(200):
                started = time.perf_counter()
                await keeper._tick()
                times.append(time.perf_counter() - started)
        keeper.close()
        return times

    result["tick_ms_median"] = round(statistics.median(asyncio.run(ticks())) * 1000, 2)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=20)
    parser.add_argument("--latency-ms", type=float, default=20)
    parser.add_argument("--max-in-flight", type=int, default=16)
    parser.add_argument("--partitions", default="1,2,4,8")
    parser.add_argument("--json", default=str(Path(__file__).resolve().parent / "results" / "partition_speedup.json"))
    args = parser.parse_args()
    from edfi_sync.sandbox.testing import run_sandbox

    budget, latency = args.max_in_flight, args.latency_ms
    results = {"scale": args.scale, "latency_ms": latency, "max_in_flight": budget,
               "budget_rate": round(budget / (latency / 1000), 1), "runs": []}
    with embedded_server() as admin, tempfile.TemporaryDirectory() as scratch:
        descriptors = Path(scratch) / "descriptors.json"
        template, rows = demo_template(admin, args.scale, descriptors)
        print(f"demo data scale {args.scale:g}: {rows['sis.person']:,} persons; sandbox at {latency:g} ms; "
              f"max_in_flight {budget}: at most {results['budget_rate']:,.0f} requests/s", flush=True)
        counts = [int(v) for v in args.partitions.split(",")]
        results["extract_seconds"] = extracts = extract_cost(create_database(admin, template), counts)
        for name, row in extracts.items():
            print(f"extract {name}: " + ", ".join(f"{n} partition(s) {s:.2f} s" for n, s in row.items()), flush=True)
        results["budget_overhead"] = overhead = budget_overhead(create_database(admin, template), descriptors,
                                                                latency, budget)
        print(f"one sender, {budget} in flight: {overhead['without']['rate']:,.0f} req/s without the shared budget "
              f"(in flight {overhead['without']['in_flight']}), {overhead['with']['rate']:,.0f} with it "
              f"(in flight {overhead['with']['in_flight']}); a keeper tick takes {overhead['tick_ms_median']} ms "
              f"(every 0.1 s per sender)", flush=True)
        for count in counts:
            conninfo = create_database(admin, template)
            with run_sandbox(descriptor_files=[descriptors]) as server:
                server.set_faults(latency_ms=latency)
                before, load_before = cpu_now(conninfo), os.getloadavg()[0]
                run = timed_sync(sync_env(conninfo, server, budget), server, extra_args=("--partitions", str(count)))
                after, load_after = cpu_now(conninfo), os.getloadavg()[0]
                seen = in_flight(server.requests(), budget)
            cpu = {key: round(after[key] - before[key], 1) for key in after}
            base = results["runs"][0]["seconds"] if results["runs"] else run.seconds
            cell = {"partitions": count, "seconds": round(run.seconds, 2), "speedup": round(base / run.seconds, 2),
                    "requests": run.requests, "rate": round(run.rate, 1), "rate_while_sending": round(run.send_rate, 1),
                    "in_flight": seen, "statuses": run.statuses, "records": sum(map_counts(conninfo).values()),
                    "cpu_seconds": cpu, "cpu_share_of_2_cores": round(sum(cpu.values()) / (2 * run.seconds), 2),
                    "load_average_1m": [round(load_before, 1), round(load_after, 1)]}
            results["runs"].append(cell)
            print(f"{count} partition(s): {cell['seconds']:7.2f} s  x{cell['speedup']:.2f}  {cell['requests']:,} "
                  f"requests  {cell['rate']:7,.0f} req/s wall ({cell['rate_while_sending']:,.0f} while sending)  "
                  f"in flight {seen}; CPU s {cpu} ({cell['cpu_share_of_2_cores']:.0%} of 2 cores); "
                  f"load {cell['load_average_1m']}", flush=True)
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(results, indent=2))
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
