"""Sources -> Articles: feed and seed-file adapters behind one protocol and registry.

    from adapters import fetch_many, get_adapter, load_sources_file
    specs = load_sources_file("deploy/sources.yaml")
    results = fetch_many(specs, states_by_name, concurrency=16, per_host=4)

Adding a source kind is adding a module here whose adapter class is decorated with
`@register("kind")`; the registry finds it by itself. Deriving from `BaseAdapter` gives the
class its constructor and an options check from its `options_type`.
"""

from adapters.batch import fetch_many, fetch_stream
from adapters.context import USER_AGENT, FetchContext
from adapters.netguard import NetworkPolicy
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
from adapters.seedfiles import ReplayPlan, plan_replay, replay_clock
from adapters.sources_file import load_sources, load_sources_file

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
