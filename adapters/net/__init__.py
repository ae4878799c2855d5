"""The network: one URL fetched over HTTP, politely and within bounds; knows nothing of feeds.

Owns: `fetch` (conditional GETs, redirects, size and time limits, typed outcomes and errors),
`guard` (where a fetch may connect and for how long, checked in the HTTP client's network
backend) and `context` (what concurrent fetches share: keep-alive clients, per-host limits, one
TLS context). Takes: a URL, its validators and `adapters.options` values. Returns: an
`HttpOutcome` or a `FetchError`. Imports `adapters.text`, `freshness` and `options` only.
"""
