"""Prefect flows, tasks, settings and the CLI: the only layer that wires the others.

The two flows are the modules a Prefect deployment names (deploy/prefect.yaml, `flows.serving.
deployments`): `monitor` (poll the due sources of a sources file, then store, detect, send) and
`replay` (local article files, offline). Around them, layers each importing only those below
(an import-linter contract in pyproject.toml):

    cli/         the `watchfloor` commands (`cli.app` is the console script's `app`)
    serving/     `watchfloor serve`: the deployment, the serving loop, runs a dead process
                 left, runs forked warm, a served run's first poll
    monitor, replay   the flows
    runs/        one run from start to end: the pipeline both flows share, a one-off run's
                 poll before Prefect, whether there is anything to do, the store's monitor lock
    stages/      fetch -> store -> detect -> send as Prefect tasks over batches, the typed
                 outcomes each returns, the run report they fill, progress and keyed log lines
    context/  prefectapi/
                 what a process builds once (settings, rules and subscribers, the store's
                 engines, the clock, its memory's pace) | Prefect in the process (its defaults,
                 the temporary API served in a thread, one TLS context)
Each package's docstring says what it owns, takes and returns.
"""
