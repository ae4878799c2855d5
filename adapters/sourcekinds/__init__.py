"""The source kinds, one module each, found by the registry (`adapters.registry`) by itself.

Owns: `rss` (RSS, RSS 1.0, Atom and JSON Feed over HTTP, with conditional requests and a cursor
of validators and TTL) and `seedfiles` (local plain-text articles replayed offline). Takes: a
`core.model.SourceSpec`, its `SourceState` and a shared `FetchContext`. Returns: a
`core.model.FetchResult`. Imports every layer of `adapters` below it.
"""
