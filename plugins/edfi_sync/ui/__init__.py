"""The operator pages inside Airflow (SPEC §6.1): the Error Log, the Identity Mapping Report and
the runs with their reconciliation, and the actions (archive and retry on the Error Log, Resync,
the Delete Tool) with their Audit Trail, as one FastAPI app the plugin mounts at ``/edfi-sync``.

Layout: ``app.py`` (factory, error pages), ``auth.py`` (the dependency every route uses),
``database.py`` (the ``edfi_sync_reader`` connection), ``pages/`` (one router per page),
``templates/`` (Jinja2, autoescaped), ``static/`` (CSS and a little JS, served by the app).
The queries are ``edfi_sync.reports``, shared with ``edfi-sync report``.

This module imports nothing: Airflow loads plugins in every task process too, and the app
(FastAPI, Airflow's API security, Jinja2) is built on the api-server's first request only.
"""

from __future__ import annotations

URL_PREFIX = "/edfi-sync"
# (path under URL_PREFIX, title): the pages' tabs and their entries in Airflow's Browse menu.
PAGES = (("errors", "Error Log"), ("identity-map", "Identity Mapping Report"), ("runs", "Runs and Reconciliation"),
         ("resync", "Resync"), ("delete", "Delete Tool"), ("audit", "Audit Trail"))


class PagesApp:
    """An ASGI app that builds the real one on first use."""

    def __init__(self) -> None:
        self._app = None

    async def __call__(self, scope, receive, send) -> None:
        if self._app is None:
            from .app import create_app

            self._app = create_app()
        await self._app(scope, receive, send)


def external_views() -> list[dict]:
    """Entries in Airflow's Browse menu; each page opens inside the Airflow UI."""
    return [{"name": f"Ed-Fi {title}", "href": f"{URL_PREFIX}/{path}", "destination": "nav",
             "category": "browse", "url_route": f"edfi-{path}"} for path, title in PAGES]
