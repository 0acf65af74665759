"""The one file Airflow's plugins-folder scan imports: it registers the package's AirflowPlugin.

The package itself is listed in .airflowignore (the scan would import each of its modules as a
top-level module). Not an ``airflow.plugins`` entry point: an editable install leaves a second
copy of the package metadata in this folder, and the plugin would be registered twice.
"""

from edfi_sync.plugin import EdFiSyncPlugin

__all__ = ["EdFiSyncPlugin"]
