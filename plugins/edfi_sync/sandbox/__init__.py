"""The Ed-Fi sandbox: an ODS/API 5.3 (or 7.3) look-alike to test and dry-run the sync against.

``create_app(SandboxConfig(...))`` gives the ASGI app; ``edfi-sync sandbox serve`` runs it;
``edfi_sync.sandbox.testing.run_sandbox`` serves it in a background thread for tests.
"""

from .app import ADMIN_HELP, SandboxApp, create_app
from .config import Client, SandboxConfig
from .faults import Faults

__all__ = ["ADMIN_HELP", "Client", "Faults", "SandboxApp", "SandboxConfig", "create_app"]
