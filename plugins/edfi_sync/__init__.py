"""SIS -> Ed-Fi sync: resource definitions, engine, hooks/operators, sandbox and CLI.

Lives in the Airflow ``plugins/`` folder so the scheduler can import it, and is also an
installable package (``pip install -e .``) for the CLI and the tests.
"""

__version__ = "0.1.0"
