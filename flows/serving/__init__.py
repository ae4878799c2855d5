"""`watchfloor serve`: the monitor flow as Prefect deployments served by one long-lived process.

Owns: the deployments and the serving loop (`deployments`), runs forked from a warm forkserver
instead of spawned cold (`forkruns`, preloading `warm`), and a served run that polls its due
sources before Prefect's engine starts (`servedruns`). Takes: a sources file, a schedule and the
settings. Returns: nothing; each run reports through Prefect and the store. Imports the flows
(`flows.monitor`) and everything below them.
"""
