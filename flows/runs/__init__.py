"""One run of a flow from start to end, shared by `monitor` and `replay`.

Owns: the pipeline both flows run (`pipeline`: fetch -> store -> detect -> send, with a replay's
analysis made ahead), what a command hands the flow it runs (`handoff`), a one-off run's poll
before Prefect starts (`oneoff`), whether a run has anything to do at all (`idle`), the store's
monitor lock (`monitorlock`: one monitor cycle at a time over a store), and what a replay reads
(`replayplan`). Takes: the process's context (`flows.context`) and the stages (`flows.stages`).
Returns: a `flows.stages.report.RunReport`.
"""
