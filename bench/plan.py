"""The order of the measurements, and the sizes they run at."""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass
from typing import Any

from bench import latency, peers, servecpu
from bench.infra import (
    RULES,
    SEED,
    Workspace,
    feed_server,
    pg_database,
    postgres,
    run_child,
    write_corpus,
    write_sources,
)


@dataclass(slots=True)
class Plan:
    """Sizes of one benchmark run (the defaults are what `make bench` measures)."""

    articles: int = 10_000
    feeds: int = 1_000
    small_feeds: int = 100
    growth: tuple[int, ...] = (1_000, 10_000, 100_000)
    profile_articles: int = 1_000
    tail: int = 1_000  # articles replayed on top of a pre-filled store, for sizes > articles
    postgres: bool = True
    prefill_batch: int = 5_000
    # One replay of this many seed files through the whole flow (no pre-fill), on SQLite: its
    # peak memory against the smallest replay's shows whether memory grows with a run's size.
    flat_replay: int = 100_000
    # Side by side (bench.peers): interleaved rounds of every tool polling the `feeds` feeds,
    # and whether to install rss2email and feed2exec (the naive script needs no install).
    peer_rounds: int = 3
    peer_installs: bool = True
    # (a): rounds of the bare floor and the replay flow side by side (bench.plan.replay_rounds).
    replay_rounds: int = 3
    # (b): no-change polls after the first, in the same process; (b) takes their median, since
    # one poll of ~1 s moves by a tenth from one second to the next on this machine type.
    nochange_polls: int = 3
    # Detection alone on a realistic mix and on an all-events worst case (bench.detectmix).
    detect_mix_articles: int = 2_000
    # Publication -> alert (bench.latency): one new item among this many unchanged feeds, with
    # one more feed that stalls this long before answering, in `serve` and a one-off `run`.
    latency_feeds: int = 1_000
    latency_stall_s: float = 60.0
    # Inside `serve` (bench.servecpu): CPU of each no-change cycle over this many feeds, on a
    # one-minute cron after the first poll.
    serve_feeds: int = 1_000
    serve_cycles: int = 3

    @property
    def items_per_feed(self) -> int:
        """Items per feed, so that the feeds hold the same articles as the replay."""
        return self.articles // self.feeds

    @classmethod
    def quick(cls) -> Plan:
        """A small run that exercises every part of the harness in about a minute or two."""
        return cls(
            articles=1_000,
            feeds=100,
            small_feeds=20,
            growth=(200, 1_000, 3_000),
            profile_articles=200,
            tail=200,
            flat_replay=3_000,
            peer_rounds=1,
            peer_installs=False,
            replay_rounds=1,
            detect_mix_articles=200,
            latency_feeds=20,
            latency_stall_s=3.0,
            serve_feeds=20,
            serve_cycles=2,
        )


def log(message: str) -> None:
    """Progress on stderr (the figures go to stdout at the end)."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def corpus_folders(plan: Plan, ws: Workspace) -> dict[str, Any]:
    """Seed-file folders: every growth size up to `articles`, and the tail of the largest."""
    folders: dict[str, Any] = {"by_size": {}, "bytes": 0}
    start = time.perf_counter()
    for size in sorted({*[g for g in plan.growth if g <= plan.articles], plan.articles}):
        folder = ws.path("corpus", f"first-{size}")
        folders["bytes"] += write_corpus(folder, 0, size)
        folders["by_size"][size] = str(folder)
    largest = max(plan.growth)
    if largest > plan.articles:
        tail = ws.path("corpus", f"tail-{largest}")
        write_corpus(tail, largest - plan.tail, largest)
        folders["tail"] = str(tail)
    folders["seconds"] = time.perf_counter() - start
    return folders


def replay_run(ws: Workspace, folder: str, url: str, label: str) -> dict[str, Any]:
    """The whole replay flow over `folder` into `url`, in a fresh process."""
    log(f"replay {label}")
    return run_child(ws, "replay", {"folder": folder, "database_url": url}, label)


def growth_rows(
    plan: Plan, ws: Workspace, folders: dict[str, Any], backend: str, make_url: Any
) -> list[dict[str, Any]]:
    """Time and peak memory to ingest each growth size on one backend.

    Sizes up to `plan.articles` replay that many seed files through the whole flow. Larger
    sizes take the cheaper path: the store is first grown to size - tail by bulk inserts
    (bench.micro.prefill: no detection, no SimHash, no Prefect), then the last `plan.tail`
    go through the whole replay flow: the row shows one replay cycle on a store of that size,
    to compare with the row of the same replay size on an empty store.
    """
    rows = []
    for size in plan.growth:
        url = make_url(f"growth_{backend}_{size}")
        row: dict[str, Any] = {"backend": backend, "articles": size}
        if size <= plan.articles:
            run = replay_run(ws, folders["by_size"][size], url, f"growth-{backend}-{size}")
            row.update(path="replay flow", prefill_s=0.0, prefill_rss_mb=0.0)
        else:
            log(f"pre-fill {backend} {size - plan.tail} articles")
            fill = run_child(
                ws,
                "prefill",
                {
                    "database_url": url,
                    "rules_dir": str(RULES),
                    "seed": SEED,
                    "source": "replay",
                    "folder": folders["tail"],
                    "start": 0,
                    "stop": size - plan.tail,
                    "base": 2_000,
                    "batch": plan.prefill_batch,
                },
                f"prefill-{backend}-{size}",
            )
            run = replay_run(ws, folders["tail"], url, f"growth-{backend}-{size}")
            row.update(
                path=f"{size - plan.tail:,} bulk-inserted, then {plan.tail:,} "
                "through the replay flow",
                prefill_s=fill["seconds"],
                prefill_rss_mb=fill["peak_rss_mb"],
            )
        row.update(
            flow_fields(run),
            seconds=row["prefill_s"] + run["flow_s"],
            peak_rss_mb=max(run["peak_rss_mb"], row["prefill_rss_mb"]),
        )
        rows.append(row)
    return rows


def flow_fields(run: dict[str, Any]) -> dict[str, Any]:
    """What a row keeps of one replay flow's run (`replay_run`)."""
    return {
        "flow_articles": run["articles"],
        "flow_s": run["flow_s"],
        "flow_cpu_s": run["flow_cpu_s"],
        "flow_helper_cpu_s": run["flow_helper_cpu_s"],
        "flow_articles_per_s": run["articles"] / run["flow_s"],
        "prefect_startup_s": run["prefect_startup_s"],
        "flow_peak_rss_mb": run["peak_rss_mb"],
        "developments": run["developments"],
        "alerts_sent": run["alerts_sent"],
        "task_runs": run["task_runs"],
    }


def replay_rounds(plan: Plan, ws: Workspace, folder: str) -> list[dict[str, Any]]:
    """What (a) sets side by side: `plan.replay_rounds` rounds of the bare floor's child, then
    the replay flow's child over the same articles, one right after the other.

    Why rounds of neighbours, not one floor and the growth row of the same size twenty minutes
    later: on this machine type two timings of the same code differ by up to ~20% from one
    minute to the next (a fixed Python loop: 2.47-2.96 s at idle; a floor of 5.37 s and 4.45 s
    in one hour), and by the end of the run the replay's files have left the page cache
    (DAMON drops pages left untouched for a minute), a cost the floor, matching texts held in
    memory, never pays. Each round's two children see the same machine; the growth table
    still shows the later replay of the same size.
    """
    rounds = []
    for number in range(1, plan.replay_rounds + 1):
        log(f"(a) round {number}: the bare floor, then the replay of {plan.articles:,} files")
        floor = run_child(
            ws,
            "floor",
            {
                "rules_dir": str(RULES),
                "seed": SEED,
                "count": plan.articles,
                "floor_url": ws.sqlite_url(f"floor-{number}"),
            },
            f"floor-{number}",
        )
        replay = replay_run(ws, folder, ws.sqlite_url(f"replay-{number}"), f"after-floor-{number}")
        rounds.append({"floor": floor, "replay": flow_fields(replay)})
    return rounds


def flat_replay(plan: Plan, ws: Workspace) -> dict[str, Any]:
    """One replay of `plan.flat_replay` seed files through the whole flow on an empty store."""
    folder = ws.path("corpus", f"flat-{plan.flat_replay}")
    log(f"write {plan.flat_replay:,} seed files for the flat-memory replay")
    write_corpus(folder, 0, plan.flat_replay)
    run = replay_run(ws, str(folder), ws.sqlite_url("flat"), f"flat-{plan.flat_replay}")
    return {"articles": plan.flat_replay, **run}


def run_plan(plan: Plan, ws: Workspace, machine: dict[str, Any]) -> dict[str, Any]:
    """Every measurement of `plan`, as raw results."""
    raw: dict[str, Any] = {"machine": machine, "plan": _plan_json(plan)}
    ws.path("db").mkdir(parents=True, exist_ok=True)
    log(f"feed server: {plan.feeds} feeds x {plan.items_per_feed} items; writing seed files")
    with feed_server(ws, plan.feeds, plan.items_per_feed) as server:
        port = server.rsplit(":", 1)[1]
        ws.env["WATCHFLOOR_NOTIFY_URLS"] = json.dumps([f"json://127.0.0.1:{port}/hook"])
        raw["corpus"] = corpus_folders(plan, ws)
        folder = raw["corpus"]["by_size"][plan.articles]

        log("micro: detection only, bare matcher, feedparser")
        raw["micro"] = run_child(
            ws,
            "micro",
            {
                "rules_dir": str(RULES),
                "seed": SEED,
                "count": plan.articles,
                "server": server,
                "feeds": plan.feeds,
            },
            "micro",
        )
        raw["replay_rounds"] = replay_rounds(plan, ws, folder)
        raw["polls"] = {}
        for feeds in (plan.feeds, plan.small_feeds):
            log(f"poll {feeds} feeds: a first poll, then {plan.nochange_polls} no-change polls")
            sources = write_sources(ws.path(f"sources-{feeds}.yaml"), server, feeds)
            raw["polls"][feeds] = run_child(
                ws,
                "poll",
                {
                    "sources_file": str(sources),
                    "database_url": ws.sqlite_url(f"poll-{feeds}"),
                    "server": server,
                    "feeds": feeds,
                    "nochange_polls": plan.nochange_polls,
                },
                f"poll-{feeds}",
            )
        raw["peers"] = peer_comparison(plan, ws, server)
        raw["detect_mix"] = detect_mix(plan, ws)
        raw["latency"] = publication_to_alert(plan, ws)
        raw["serve_cpu"] = serve_cycle_cpu(plan, ws)
        raw["growth"] = growth_rows(plan, ws, raw["corpus"], "sqlite", ws.sqlite_url)
        raw["flat_replay"] = flat_replay(plan, ws)
        if plan.postgres:
            with postgres(ws) as pg:
                if pg is not None:
                    raw["postgres_version"] = _pg_version(pg)
                    raw["growth"] += growth_rows(
                        plan, ws, raw["corpus"], "postgresql", lambda n: pg_database(pg, n)
                    )
        log("profile the stages without Prefect")
        raw["profile"] = run_child(
            ws,
            "profile",
            {
                "folder": raw["corpus"]["by_size"].get(plan.profile_articles, folder),
                "database_url": ws.sqlite_url("profile"),
                "rules_dir": str(RULES),
            },
            "profile",
        )
    return raw


PARTS = ("peers", "detect", "latency", "serve")


def run_parts(
    plan: Plan, ws: Workspace, machine: dict[str, Any], parts: set[str]
) -> dict[str, Any]:
    """Only some measurements (`--only`): "peers" (the side-by-side polls, with their own feed
    server), "detect" (detection alone on two mixes) and "latency" (publication -> alert in
    `serve` and a one-off `run`, with its own feed server) and "serve" (the CPU of a no-change
    cycle inside `serve`, with its own feed server)."""
    raw: dict[str, Any] = {"machine": machine, "plan": _plan_json(plan)}
    if "peers" in parts:
        log(f"feed server: {plan.feeds} feeds x {plan.items_per_feed} items")
        with feed_server(ws, plan.feeds, plan.items_per_feed) as server:
            port = server.rsplit(":", 1)[1]
            ws.env["WATCHFLOOR_NOTIFY_URLS"] = json.dumps([f"json://127.0.0.1:{port}/hook"])
            raw["peers"] = peer_comparison(plan, ws, server)
    if "detect" in parts:
        raw["detect_mix"] = detect_mix(plan, ws)
    if "latency" in parts:
        raw["latency"] = publication_to_alert(plan, ws)
    if "serve" in parts:
        raw["serve_cpu"] = serve_cycle_cpu(plan, ws)
    return raw


def peer_comparison(plan: Plan, ws: Workspace, server: str) -> dict[str, Any]:
    """Watchfloor, the naive script, rss2email and feed2exec polling the same feeds."""
    log(f"side by side: {plan.peer_rounds} round(s) of first and no-change polls")
    return peers.run(ws, server, plan.feeds, plan.peer_rounds, install=plan.peer_installs)


def detect_mix(plan: Plan, ws: Workspace) -> dict[str, Any]:
    """Detection alone on a realistic mix and on an all-events worst case, in a fresh process."""
    log(f"detection alone on two mixes of {plan.detect_mix_articles:,} articles")
    args = {"rules_dir": str(RULES), "seed": SEED, "count": plan.detect_mix_articles}
    return run_child(ws, "detectmix", args, "detectmix")


def publication_to_alert(plan: Plan, ws: Workspace) -> dict[str, Any]:
    """One new item among `latency_feeds` unchanged feeds and one stalled feed: publication ->
    alert in `serve` and in a one-off `run` (bench.latency)."""
    log(
        f"latency: one new item among {plan.latency_feeds:,} unchanged feeds, one feed "
        f"stalling {plan.latency_stall_s:g} s"
    )
    return latency.run(ws, plan.latency_feeds, plan.latency_stall_s)


def serve_cycle_cpu(plan: Plan, ws: Workspace) -> dict[str, Any]:
    """The CPU of a no-change cycle over `serve_feeds` feeds inside `serve` (bench.servecpu)."""
    log(f"serve cpu: {plan.serve_cycles} no-change cycles over {plan.serve_feeds:,} feeds")
    return servecpu.run(ws, plan.serve_feeds, plan.items_per_feed, plan.serve_cycles)


def _pg_version(server_url: str) -> str:
    import psycopg

    with psycopg.connect(server_url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        row = conn.execute("SHOW server_version").fetchone()
    return str(row[0]) if row else "unknown"


def _plan_json(plan: Plan) -> dict[str, Any]:
    return {
        "articles": plan.articles,
        "feeds": plan.feeds,
        "items_per_feed": plan.items_per_feed,
        "small_feeds": plan.small_feeds,
        "growth": list(plan.growth),
        "profile_articles": plan.profile_articles,
    }
