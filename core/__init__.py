"""Watchfloor's shared vocabulary: plain dataclasses and typed errors. Imports nothing of ours."""
