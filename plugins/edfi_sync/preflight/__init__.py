"""Checks before a run sends anything: preflight (SPEC §6.1) and the year rollover check."""
