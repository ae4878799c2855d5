"""Sources -> Articles: feed and seed-file adapters behind one protocol and registry.

    from adapters import fetch_many, get_adapter, load_sources_file
    specs = load_sources_file("deploy/sources.yaml")
    results = fetch_many(specs, states_by_name, concurrency=16, per_host=4)

Adding a source kind is adding a module in `sourcekinds/` whose adapter class is decorated with
`@register("kind")`; the registry finds it by itself. Deriving from `BaseAdapter` gives the
class its constructor and an options check from its `options_type`.

Layers, each importing only those below it (an import-linter contract in pyproject.toml):
    sourcekinds/  the source kinds: `rss` (feeds over HTTP), `seedfiles` (local article files)
    batch, sources/   many sources fetched at once | the sources file, OPML in and out
    registry      the adapter protocol and the registry of kinds
    net/, feeds/  fetch one URL within bounds | feed bytes -> parsed items
    text/         HTML to text, titles, boilerplate, a seed file's parts, canonical links
    freshness, options   caching lifetimes | typed adapter options
Each package's docstring says what it owns, takes and returns.
"""

from adapters.batch import fetch_many, fetch_stream
from adapters.net.context import USER_AGENT, FetchContext
from adapters.net.guard import NetworkPolicy
from adapters.registry import (
    BaseAdapter,
    KindInfo,
    SourceAdapter,
    UnknownKindError,
    check_options,
    describe_kinds,
    get_adapter,
    kinds,
    register,
)
from adapters.sourcekinds.seedfiles import ReplayPlan, plan_replay, replay_clock
from adapters.sources.file import load_sources, load_sources_file

__all__ = [
    "USER_AGENT",
    "BaseAdapter",
    "FetchContext",
    "KindInfo",
    "NetworkPolicy",
    "ReplayPlan",
    "SourceAdapter",
    "UnknownKindError",
    "check_options",
    "describe_kinds",
    "fetch_many",
    "fetch_stream",
    "get_adapter",
    "kinds",
    "load_sources",
    "load_sources_file",
    "plan_replay",
    "register",
    "replay_clock",
]
