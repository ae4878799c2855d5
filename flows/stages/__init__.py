"""The stages of a cycle, fetch -> store -> detect -> send, and what each hands the next.

Owns: the stages as Prefect tasks over batches (`tasks`), their work without Prefect (`ingest`:
fetch and store; `analysis`: detection's pure work on queued articles, also done ahead in a
process of its own by `ahead`; `delivery`: route and send alerts through the ledger), the typed
outcomes they return and fold (`outcomes`, `cycle`), the run report and its renderers (`report`:
JSON and the terminal; `artifact`: the monitor run's Markdown artifact), and what a run shows
on the way (`progress` for a person, `keyed` log lines, `heartbeats`, `errorline` for the
store). Takes: the process's context (`flows.context`) and the `adapters`, `db`, `detect` and
`notify` layers. Returns: stage outcomes and a `RunReport`.
"""
