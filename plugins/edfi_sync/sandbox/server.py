"""``edfi-sync sandbox serve``: run the sandbox with uvicorn (httptools + uvloop)."""

from __future__ import annotations

import argparse
import json
import logging

from .config import Client, SandboxConfig
from .faults import Faults

log = logging.getLogger(__name__)


def config_from_args(args: argparse.Namespace) -> SandboxConfig:
    if args.memory:
        database_url = None
    elif args.database_url:
        database_url = args.database_url
    else:
        from .. import embedded

        database_url = embedded.conninfo("edfi_sandbox")
    return SandboxConfig(
        host=args.host,
        port=args.port,
        clients=[Client.make(args.key, args.secret, args.claims)],
        database_url=database_url,
        api_version=args.api_version,
        token_lifetime=args.token_lifetime,
        max_tokens=args.max_tokens,
        faults=Faults.from_dict(json.loads(args.faults)) if args.faults else Faults(),
        descriptor_files=list(args.descriptors),
        reset=args.reset,
    )


def serve(config: SandboxConfig) -> None:
    import uvicorn

    from .app import create_app

    app = create_app(config)
    storage = "memory" if config.database_url is None else _describe(config.database_url)
    log.info("Ed-Fi sandbox (ODS/API %s contract) on http://%s:%d, storage: %s, clients: %s",
             config.api_version, config.host, config.port, storage,
             ", ".join(f"{c.key} (claims: {'all' if c.claims is None else sorted(c.claims)})" for c in config.clients))
    uvicorn.run(app, host=config.host, port=config.port, loop="uvloop", http="httptools", lifespan="on",
                access_log=False, log_level="warning", backlog=2048,
                timeout_graceful_shutdown=5)   # hung requests (fault injection) must not hold up a stop


def _describe(conninfo: str) -> str:
    from ..db import describe

    return describe(conninfo)


def cli_serve(args: argparse.Namespace) -> int:
    serve(config_from_args(args))
    return 0
