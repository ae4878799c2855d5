"""Watchfloor benchmarks: `make bench` (= `python -m bench`)."""
