"""The reports an operator reads: the error log, the Identity Mapping Report, the runs and their
reconciliation. One set of queries (``include/sql/report/``) serves both the command line
(``edfi-sync report``) and the pages in the Airflow UI (``edfi_sync.ui``), so a CSV downloaded
from a page and the CLI's ``--format csv`` are the same rows.
"""
