"""Feed bytes -> parsed items: RSS 0.9x/2.0, RSS 1.0 (RDF), Atom and JSON Feed.

Owns: `parse` (feedparser, or the JSON Feed reader, with the body's encoding chosen first by
`charset`), `parserfast` (feedparser's costly steps whose result is already known, skipped),
`jsonfeed`, `dates` (an item's publication time in the publisher's offset) and `items` (what
every format's parser takes and returns: `FeedBody`, `ParsedFeed`). Takes: a body and its
headers. Returns: a `ParsedFeed` of articles and problems. Imports `adapters.text` and
`freshness` only; no network.
"""
