"""Alerts of the sync DAGs: a run that failed, one that logged new record errors, one stuck past its deadline."""
