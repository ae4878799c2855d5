"""Prefect inside a Watchfloor process: its defaults, its temporary API, its TLS.

Owns: Prefect's settings for a command and the process's signals and orphans (`process`, which
imports only the standard library: every command loads it), the temporary API served in a
thread of the command's own process (`server`, serving `app`, whose in-memory pub/sub waits on
the loop: `pubsub`), the check that an API PREFECT_API_URL names answers (`reach`), and one
verifying TLS context per CA file for Prefect's clients (`tls`). Takes: Prefect's settings.
Returns: a reachable API for the block it is used in. Imports no other part of `flows`.
"""
