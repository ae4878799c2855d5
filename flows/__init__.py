"""Prefect flows, tasks, settings and the CLI: the only layer that wires the others."""
