"""Tests of the Ed-Fi sandbox (a package, so its conftest does not shadow tests/conftest.py)."""
