"""Benchmarks: `python -m bench` runs every `bench/<area>_<what>.py`; each prints figures."""
