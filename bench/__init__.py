"""Benchmarks (not timed tests): each bench/*.py script prints its figures. `python -m bench` runs them all."""
