"""What a process builds once and hands down: settings, rules and subscribers, the store.

Owns: the one place that reads the environment (`settings`), rules and subscribers loaded once
and again only when their files change (`config`), the sources file parsed once (`sourcesfile`),
one engine per database URL, migrated once (`runtime`), the wall clock (`clock`), whether a
process holding a claim is alive (`liveness`), and how a process paces its memory (`gcpace`,
`longlived`, `allocator`). Takes: the environment and files. Returns: typed settings, a
`RunConfig`, engines. Imports no other part of `flows`.
"""
