"""The Airflow plugin of the package, registered by ``plugins/edfi_sync_plugin.py``.

The package itself stays out of the plugins-folder scan (``plugins/.airflowignore``): Airflow
imports every .py there as a top-level module, which breaks relative imports and shadows
libraries with this package's ``config``, ``errors``, ``db``...
"""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

from .timetables import SchoolYearTimetable
from .ui import URL_PREFIX, PagesApp, external_views


class EdFiSyncPlugin(AirflowPlugin):
    name = "edfi_sync"
    timetables = [SchoolYearTimetable]
    # The operator pages (edfi_sync.ui), behind Airflow's login.
    fastapi_apps = [{"app": PagesApp(), "url_prefix": URL_PREFIX, "name": "Ed-Fi sync pages"}]
    external_views = external_views()
