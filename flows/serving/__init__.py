"""`watchfloor serve`: the monitor flow as Prefect deployments served by one long-lived process.

Owns: the monitor deployment's definition (`deployments`), the serving loop and its schedule
(`serve`), runs that a dead process left or that did not do their work (`recovery`), runs forked
from a warm forkserver instead of spawned cold (`forkruns`, preloading `warm`), and a served
run that polls its due sources before Prefect's engine starts (`servedruns`). Takes: a sources
file, a schedule and the settings. Returns: nothing; each run reports through Prefect and the
store. Imports the flows (`flows.monitor`) and everything below them.
"""
