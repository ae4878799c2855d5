"""Where a replay's time goes: each stage's own code under cProfile, without Prefect.

The stages run as the replay flow runs them (`flows.stages.tasks` task functions, called through
`.fn`), except that the seed files are read in this thread (the fetch stage reads them in a
worker thread, where this thread's profiler would not see them). The result names functions as
`path:function` with their share of the profiled time, so the owners of a layer can find them.
"""

from __future__ import annotations

import cProfile
import pstats
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OWN_LAYERS = ("adapters/", "db/", "detect/", "flows/", "notify/", "core/")


def where(key: tuple[str, int, str]) -> str:
    """`layer/file.py:function` for project code, `library:function` otherwise."""
    filename, _line, function = key
    path = Path(filename)
    try:
        return f"{path.resolve().relative_to(ROOT)}:{function}"
    except ValueError:
        pass
    parts = path.parts
    if "site-packages" in parts:
        return f"{parts[parts.index('site-packages') + 1]}:{function}"
    return f"{path.name}:{function}" if filename != "~" else function


def top_functions(stats: pstats.Stats, total: float, limit: int = 15) -> dict[str, list[dict]]:
    """The functions with the most self time, and the project's with the most cumulative time."""
    rows = [
        {"where": where(key), "self_s": tt, "cum_s": ct, "calls": nc}
        for key, (_cc, nc, tt, ct, _callers) in stats.stats.items()  # type: ignore[attr-defined]
    ]
    for row in rows:
        row["self_share"] = row["self_s"] / total
        row["cum_share"] = row["cum_s"] / total
    by_self = sorted(rows, key=lambda r: r["self_s"], reverse=True)[:limit]
    own = [r for r in rows if r["where"].startswith(OWN_LAYERS) and r["cum_share"] < 0.99]
    by_cum = sorted(own, key=lambda r: r["cum_s"], reverse=True)[: limit * 2]
    return {"self": by_self, "cumulative": by_cum}


def run(args: dict[str, Any]) -> dict[str, Any]:
    """Profile fetch (seed files), store, detect and send over `args["folder"]`."""
    import adapters
    from core.model import SourceState
    from flows.context.config import load_run_config
    from flows.context.settings import load_settings
    from flows.runs.replayplan import replay_source
    from flows.stages.ingest import store_batch
    from flows.stages.tasks import detect_stage, send_stage

    settings = load_settings(database_url=args["database_url"], rules_dir=args["rules_dir"])
    config = load_run_config(settings)
    url = settings.database_url
    spec = replay_source([args["folder"]])
    profiler = cProfile.Profile()
    stage_s: dict[str, float] = {}

    def timed(name: str, call: Any) -> Any:
        start = time.perf_counter()
        profiler.enable()
        try:
            return call()
        finally:
            profiler.disable()
            stage_s[name] = time.perf_counter() - start

    adapter = adapters.get_adapter(spec.kind)
    result = timed("fetch", lambda: adapter.fetch(spec, SourceState()))
    timed("store", lambda: store_batch(url, [spec], [result]))
    timed(
        "detect",
        lambda: detect_stage.fn(url, config.ruleset, config.rules_version, settings.lookback_days),
    )
    timed("send", lambda: send_stage.fn(url, config.subscribers, settings.delivery_max_attempts))
    stats = pstats.Stats(profiler)
    total = sum(stage_s.values())
    return {
        "articles": len(result.articles),
        "stage_s": stage_s,
        "profiled_s": total,
        **top_functions(stats, total),
    }
