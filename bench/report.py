"""From raw measurements to the figures `make bench` prints and bench/results.json holds."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

TARGET_RATIO = 0.5
TARGET_NOCHANGE = 0.05
TARGET_FLAT_RSS = 1.10  # a replay's peak memory may grow 10% from 1k to 100k files


def stage_seconds(task_runs: list[dict[str, Any]]) -> dict[str, float]:
    """Seconds per stage name, summed over a cycle's task runs."""
    found: dict[str, float] = {}
    for run in task_runs:
        found[run["name"]] = found.get(run["name"], 0.0) + run["seconds"]
    return found


def busy_seconds(task_runs: list[dict[str, Any]]) -> float:
    """Seconds during which at least one of a cycle's task runs ran: the union of their
    intervals (a poll's detection runs beside its ingest). Results without start and end
    times (older runs') count each run's seconds, as if none overlapped."""
    if any(run.get("start") is None or run.get("end") is None for run in task_runs):
        return float(sum(run["seconds"] for run in task_runs))
    spans: list[tuple[float, float]] = sorted((run["start"], run["end"]) for run in task_runs)
    busy, reach = 0.0, float("-inf")
    for start, end in spans:
        if end > reach:
            busy += end - max(start, reach)
            reach = end
    return busy


def _row(raw: dict[str, Any], backend: str, size: int) -> dict[str, Any] | None:
    return next(
        (r for r in raw["growth"] if r["backend"] == backend and r["articles"] == size), None
    )


def _task_runs_per_cycle(raw: dict[str, Any]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for row in raw["growth"]:
        if row["backend"] == "sqlite" and row["path"] == "replay flow":
            counts[f"replay {row['articles']} articles"] = len(row["task_runs"])
    for feeds, run in sorted(raw["polls"].items(), key=lambda kv: int(kv[0])):
        for poll in run["polls"]:
            label = f"poll {feeds} feeds ({poll['new_articles']} new articles, {poll['poll']})"
            counts[label] = len(poll["task_runs"])
    return counts


def _polls(raw: dict[str, Any]) -> dict[str, Any]:
    feeds = raw["plan"]["feeds"]
    run = raw["polls"][str(feeds)] if str(feeds) in raw["polls"] else raw["polls"][feeds]
    first, *nochanges = run["polls"]
    # The median no-change poll (bench.plan.Plan.nochange_polls); every one is listed.
    nochange = _median_by(nochanges, lambda poll: poll["seconds"])
    return {
        "feeds": feeds,
        "prefect_startup_s": run["prefect_startup_s"],
        "first": first,
        "nochange": nochange,
        "nochange_each_s": [poll["seconds"] for poll in nochanges],
        "first_stages": stage_seconds(first["task_runs"]),
        "nochange_stages": stage_seconds(nochange["task_runs"]),
        "nochange_busy_s": busy_seconds(nochange["task_runs"]),
        "http_floor": run["http_floor"],
        "peak_rss_mb": run["peak_rss_mb"],
    }


def _median_by(items: Sequence[dict[str, Any]], key: Callable[[dict[str, Any]], float]) -> Any:
    """The item whose `key` is the median (the upper one of an even count): a whole
    measurement, so the figures printed beside it are its own."""
    return sorted(items, key=key)[len(items) // 2]


def _round_ratio(round_: dict[str, Any]) -> float:
    """One (a) round's replay rate over its floor's (bench.plan.replay_rounds)."""
    return float(round_["replay"]["flow_articles_per_s"] / round_["floor"]["per_s"])


def summarise(raw: dict[str, Any]) -> dict[str, Any]:
    """The results file: the keys issue 6 asks for first, then the details behind them."""
    n = raw["plan"]["articles"]
    rounds = raw["replay_rounds"]
    # The round of the median ratio: its replay and floor are the ones printed in detail.
    middle = _median_by(rounds, _round_ratio)
    replay, floor = middle["replay"], middle["floor"]
    later = _row(raw, "sqlite", n)
    assert later is not None, "the SQLite replay of the main size always runs"
    micro = raw["micro"]
    replay_rate = replay["flow_articles_per_s"]
    floor_rate = floor["per_s"]
    replay_cpu_rate = replay["flow_articles"] / replay["flow_cpu_s"]
    floor_cpu_rate = floor["per_cpu_s"]
    polls = _polls(raw)
    first_s, nochange_s = polls["first"]["seconds"], polls["nochange"]["seconds"]
    task_counts = _task_runs_per_cycle(raw)
    replay_counts = {v for k, v in task_counts.items() if k.startswith("replay")}
    rss = [r["peak_rss_mb"] for r in raw["growth"]] + [polls["peak_rss_mb"]]
    return {
        "replay_articles_per_s": replay_rate,
        "replay_floor_articles_per_s": floor_rate,
        "replay_ratio": replay_rate / floor_rate,
        "first_poll_s": first_s,
        "nochange_poll_s": nochange_s,
        "nochange_poll_cost_ratio": nochange_s / first_s,
        "prefect_task_runs_per_cycle": task_counts,
        "peak_rss_mb": max(rss),
        "growth": [_growth_json(r) for r in raw["growth"]],
        "targets": {
            "replay_ratio_min": TARGET_RATIO,
            "nochange_poll_cost_ratio_max": TARGET_NOCHANGE,
            "replay_ratio_met": replay_rate / floor_rate >= TARGET_RATIO,
            "nochange_poll_met": nochange_s / first_s <= TARGET_NOCHANGE,
            "replay_task_runs_independent_of_articles": len(replay_counts) == 1,
            "poll_task_runs_independent_of_feeds": _poll_counts_equal(task_counts),
            "memory_flat_10k_to_100k": _memory_flat(raw),
            "memory_flat_in_run_size": _flat_replay(raw),
        },
        "prefect_startup_s": replay["prefect_startup_s"],
        "replay_articles_per_cpu_s": replay_cpu_rate,
        "replay_floor_articles_per_cpu_s": floor_cpu_rate,
        "replay_ratio_cpu": replay_cpu_rate / floor_cpu_rate,
        "replay": {
            "articles": replay["flow_articles"],
            "seconds": replay["flow_s"],
            "cpu_s": replay["flow_cpu_s"],
            "helper_cpu_s": replay.get("flow_helper_cpu_s", 0.0),
            "stages_s": stage_seconds(replay["task_runs"]),
            "outside_tasks_s": replay["flow_s"] - busy_seconds(replay["task_runs"]),
            "developments": replay["developments"],
            "alerts_sent": replay["alerts_sent"],
            "peak_rss_mb": replay["flow_peak_rss_mb"],
            # The growth row of the same size, at the end of the run: files off the page cache
            # and a machine that may run at another speed by then.
            "later_in_run_s": later["flow_s"],
        },
        "floor": floor,
        "replay_rounds": [
            {
                "floor_s": r["floor"]["total_s"],
                "replay_s": r["replay"]["flow_s"],
                "ratio": _round_ratio(r),
            }
            for r in rounds
        ],
        "detect_only_articles_per_s": micro["detect"]["per_s"],
        "detect_only_articles_per_cpu_s": micro["detect"]["per_cpu_s"],
        "matcher_articles_per_s": micro["matcher_per_s"],
        "matcher_articles_per_cpu_s": micro["matcher_per_cpu_s"],
        "detect_to_matcher_ratio": micro["detect"]["per_s"] / micro["matcher_per_s"],
        "feedparser": micro["feeds"],
        "corpus": {
            "articles": micro["count"],
            "mean_body_bytes": micro["mean_bytes"],
            "rule_terms": micro["terms"],
            "rules": micro["rules"],
        },
        "poll": {
            "feeds": polls["feeds"],
            "first_feeds_per_s": polls["feeds"] / first_s,
            "nochange_feeds_per_s": polls["feeds"] / nochange_s,
            "first": _poll_json(polls["first"]),
            "nochange": _poll_json(polls["nochange"]),
            "nochange_each_s": polls["nochange_each_s"],
            "first_stages_s": polls["first_stages"],
            "nochange_stages_s": polls["nochange_stages"],
            "nochange_outside_tasks_s": nochange_s - polls["nochange_busy_s"],
            "http_floor": polls["http_floor"],
            "http_floor_to_first_ratio": polls["http_floor"]["seconds"] / first_s,
            "prefect_startup_s": polls["prefect_startup_s"],
            "peak_rss_mb": polls["peak_rss_mb"],
        },
        "micro_peak_rss_mb": micro["peak_rss_mb"],
        "hotspots": raw["profile"],
        "peers": raw["peers"],
        "detection_mix": raw["detect_mix"],
        "latency": raw["latency"],
        "serve_cpu": raw["serve_cpu"],
        "machine": {**raw["machine"], "postgresql": raw.get("postgres_version")},
        "plan": raw["plan"],
        "bench_wall_s": raw.get("bench_wall_s"),
    }


def _poll_counts_equal(counts: dict[str, int]) -> bool:
    firsts = {v for k, v in counts.items() if k.startswith("poll") and k.endswith("first)")}
    return len(firsts) == 1


def _memory_flat(raw: dict[str, Any]) -> dict[str, Any]:
    """Peak RSS against store size and against replay size, per backend.

    `store`: the same replay size (the tail) on an empty store and on the largest store, so the
    ratio shows whether memory grows with what is stored. `replay`: the smallest and the
    largest replay on an empty store, so the ratio shows whether it grows with one run's size.
    """
    flat: dict[str, Any] = {}
    for backend in ("sqlite", "postgresql"):
        rows = [r for r in raw["growth"] if r["backend"] == backend]
        if not rows:
            continue
        empty = sorted((r for r in rows if r["prefill_s"] == 0), key=lambda r: r["articles"])
        largest = max(rows, key=lambda r: r["articles"])
        same = [r for r in empty if r["flow_articles"] == largest["flow_articles"]]
        entry: dict[str, Any] = {}
        if same and largest is not same[0]:
            low, high = same[0]["flow_peak_rss_mb"], largest["flow_peak_rss_mb"]
            entry["store"] = {
                "replay_articles": largest["flow_articles"],
                "stored": [same[0]["articles"], largest["articles"]],
                "rss_mb": [low, high],
                "ratio": high / low,
            }
        if len(empty) > 1:
            low, high = empty[0]["flow_peak_rss_mb"], empty[-1]["flow_peak_rss_mb"]
            entry["replay"] = {
                "replay_articles": [empty[0]["articles"], empty[-1]["articles"]],
                "rss_mb": [low, high],
                "ratio": high / low,
            }
        flat[backend] = entry
    return flat


def _flat_replay(raw: dict[str, Any]) -> dict[str, Any]:
    """Peak RSS of the largest whole-flow replay against the smallest (SQLite, empty stores):
    target within 10%."""
    small = min(
        (r for r in raw["growth"] if r["backend"] == "sqlite" and r["prefill_s"] == 0),
        key=lambda r: r["articles"],
    )
    large = raw["flat_replay"]
    ratio = large["peak_rss_mb"] / small["flow_peak_rss_mb"]
    return {
        "replay_articles": [small["articles"], large["articles"]],
        "rss_mb": [small["flow_peak_rss_mb"], large["peak_rss_mb"]],
        "seconds": [small["flow_s"], large["flow_s"]],
        "ratio": ratio,
        "met": ratio <= TARGET_FLAT_RSS,
    }


def _poll_json(poll: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in poll.items() if k != "task_runs"} | {
        "task_runs": len(poll["task_runs"])
    }


def _growth_json(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "backend": row["backend"],
        "articles": row["articles"],
        "path": row["path"],
        "seconds": row["seconds"],
        "prefill_s": row["prefill_s"],
        "flow_s": row["flow_s"],
        "flow_cpu_s": row["flow_cpu_s"],
        "flow_articles": row["flow_articles"],
        "flow_articles_per_s": row["flow_articles_per_s"],
        "peak_rss_mb": row["peak_rss_mb"],
        "flow_peak_rss_mb": row["flow_peak_rss_mb"],
        "prefill_rss_mb": row["prefill_rss_mb"],
        "prefect_startup_s": row["prefect_startup_s"],
        "developments": row["developments"],
        "alerts_sent": row["alerts_sent"],
        "stages_s": stage_seconds(row["task_runs"]),
        "task_runs": dict(Counter(t["name"] for t in row["task_runs"])),
    }


def _met(ok: bool) -> str:
    return "met" if ok else "NOT met"


def print_results(r: dict[str, Any]) -> None:
    """The figures, one screen per part."""
    m = r["machine"]
    print(
        f"Watchfloor benchmarks: {m['cpu']}, {m['cores']} cores, {m['memory_gb']} GB, "
        f"Python {m['python']}, SQLite {m['sqlite']}, PostgreSQL {m['postgresql']}, "
        f"Prefect {m['prefect']}"
    )
    if m.get("commit"):
        print(f"commit {m['commit']}")
    print(
        f"load average (1, 5, 15 min) at start {m['load_average_at_start']}, at end "
        f"{m.get('load_average_at_end')}: above {m['cores']} means other work shared the cores"
    )
    c = r["corpus"]
    print(
        f"corpus: {c['articles']:,} synthetic articles, mean body {c['mean_body_bytes']:,.0f} "
        f"bytes; {c['rules']} rules, {c['rule_terms']:,} literal terms\n"
    )
    _print_replay(r)
    _print_poll(r)
    _print_task_runs(r)
    _print_memory(r)
    _print_growth(r)
    _print_hotspots(r)
    if r.get("bench_wall_s"):
        print(f"\nbenchmark wall time: {r['bench_wall_s']:.0f} s")


def _print_replay(r: dict[str, Any]) -> None:
    rp, fl = r["replay"], r["floor"]
    stages = ", ".join(f"{k} {v:.1f} s" for k, v in rp["stages_s"].items())
    print(f"(a) replay / ingest of {rp['articles']:,} articles (SQLite)")
    print(
        f"    Prefect start-up (import, ephemeral API, first flow): {r['prefect_startup_s']:.1f} s"
    )
    print(
        f"    replay flow: {rp['seconds']:.1f} s = {r['replay_articles_per_s']:,.0f} articles/s "
        f"({rp['cpu_s']:.1f} CPU-s in the flow's process and its analysing process "
        f"({rp['helper_cpu_s']:.1f} of them) = "
        f"{r['replay_articles_per_cpu_s']:,.0f} per CPU-s); {rp['developments']} developments, "
        f"{rp['alerts_sent']} alerts"
    )
    print(f"      tasks: {stages}; outside tasks {rp['outside_tasks_s']:.1f} s")
    print(
        f"      {len(r['replay_rounds'])} round(s), each the floor then the replay (ratio: "
        "replay s / floor s): "
        + ", ".join(
            f"{x['ratio']:.3f}: {x['replay_s']:.1f} / {x['floor_s']:.2f}"
            for x in r["replay_rounds"]
        )
        + "; the median round is shown"
    )
    print(
        f"      the same replay at the end of this run (growth table): {rp['later_in_run_s']:.1f} s"
    )
    print(
        f"    bare floor: {fl['total_s']:.2f} s = {r['replay_floor_articles_per_s']:,.0f} "
        f"articles/s (matcher pass {fl['match_s']:.2f} s, bulk INSERT ON CONFLICT "
        f"{fl['insert_s']:.2f} s; {fl['per_cpu_s']:,.0f} per CPU-s)"
    )
    print(
        f"    ratio replay / floor: {r['replay_ratio']:.3f} (per CPU-s: "
        f"{r['replay_ratio_cpu']:.3f}); target >= {TARGET_RATIO}: "
        f"{_met(r['targets']['replay_ratio_met'])}"
    )
    print(
        f"    detection only (detect.detect, all rules): {r['detect_only_articles_per_s']:,.0f} "
        f"articles/s ({r['detect_only_articles_per_cpu_s']:,.0f} per CPU-s); bare matcher: "
        f"{r['matcher_articles_per_s']:,.0f} articles/s "
        f"({r['matcher_articles_per_cpu_s']:,.0f} per CPU-s); ratio "
        f"{r['detect_to_matcher_ratio']:.3f}"
    )
    fp = r["feedparser"]
    print(
        f"    feedparser on the same content as {fp['feeds']:,} feeds: "
        f"{fp['feedparser_items_per_s']:,.0f} items/s (defaults); rss adapter parse_feed "
        f"{fp['parse_feed_items_per_s']:,.0f} items/s\n"
    )


def _print_poll(r: dict[str, Any]) -> None:
    p = r["poll"]
    first, nochange = p["first"], p["nochange"]
    print(
        f"(b) {p['feeds']:,}-feed poll on loopback "
        f"(Prefect start-up {p['prefect_startup_s']:.1f} s)"
    )
    print(
        f"    first poll: {r['first_poll_s']:.1f} s ({first['cpu_s']:.1f} CPU-s) = "
        f"{p['first_feeds_per_s']:,.0f} feeds/s; "
        f"{first['responses_200']} x 200, {first['new_articles']:,} new articles; tasks "
        + ", ".join(f"{k} {v:.1f} s" for k, v in p["first_stages_s"].items())
    )
    print(
        f"    no-change poll (the median of {len(p['nochange_each_s'])}: "
        + " / ".join(f"{s:.2f}" for s in p["nochange_each_s"])
        + f" s): {r['nochange_poll_s']:.2f} s ({nochange['cpu_s']:.2f} CPU-s) = "
        f"{p['nochange_feeds_per_s']:,.0f} feeds/s; {nochange['responses_304']} x 304, "
        f"{nochange['new_articles']} new; tasks "
        + ", ".join(f"{k} {v:.2f} s" for k, v in p["nochange_stages_s"].items())
    )
    print(
        "      no-change poll outside its tasks (flow, config, lock, report): "
        f"{p['nochange_outside_tasks_s']:.2f} s"
    )
    floor = p["http_floor"]
    print(
        f"    HTTP floor (bench.httpfloor): the same {floor['requests']:,} conditional GETs "
        f"through httpcore alone, one at a time: {floor['seconds']:.2f} s "
        f"({floor['cpu_s']:.2f} CPU-s) = "
        f"{p['http_floor_to_first_ratio']:.1%} of the first poll; the no-change poll is "
        f"{r['nochange_poll_s'] / floor['seconds']:.2f}x it"
    )
    print(
        f"    cost ratio no-change / first: {r['nochange_poll_cost_ratio']:.1%} (target <= "
        f"{TARGET_NOCHANGE:.0%}: {_met(r['targets']['nochange_poll_met'])})\n"
    )


def _print_task_runs(r: dict[str, Any]) -> None:
    t = r["targets"]
    print("(c) Prefect task runs per cycle (read from the Prefect API)")
    for label, count in r["prefect_task_runs_per_cycle"].items():
        print(f"    {label}: {count}")
    print(
        "    independent of articles (replay): "
        f"{_met(t['replay_task_runs_independent_of_articles'])}"
        f"; of feeds (first polls): {_met(t['poll_task_runs_independent_of_feeds'])}\n"
    )


def _print_memory(r: dict[str, Any]) -> None:
    print("(d) peak RSS of the process running the flow")
    print(
        f"    replay {r['replay']['articles']:,} articles: {r['replay']['peak_rss_mb']:.0f} MB; "
        f"{r['poll']['feeds']:,}-feed polls: {r['poll']['peak_rss_mb']:.0f} MB; "
        f"max over all runs: {r['peak_rss_mb']:.0f} MB"
    )
    for backend, flat in r["targets"]["memory_flat_10k_to_100k"].items():
        if "store" in flat:
            f = flat["store"]
            print(
                f"    {backend}: replay of {f['replay_articles']:,} on a store of "
                f"{f['stored'][0]:,} -> {f['stored'][1]:,} articles: {f['rss_mb'][0]:.0f} -> "
                f"{f['rss_mb'][1]:.0f} MB (x{f['ratio']:.2f})"
            )
        if "replay" in flat:
            f = flat["replay"]
            print(
                f"    {backend}: one replay of {f['replay_articles'][0]:,} -> "
                f"{f['replay_articles'][1]:,} articles: {f['rss_mb'][0]:.0f} -> "
                f"{f['rss_mb'][1]:.0f} MB (x{f['ratio']:.2f})"
            )
    f = r["targets"]["memory_flat_in_run_size"]
    print(
        f"    sqlite: whole-flow replay of {f['replay_articles'][0]:,} -> "
        f"{f['replay_articles'][1]:,} files: {f['rss_mb'][0]:.0f} -> {f['rss_mb'][1]:.0f} MB "
        f"(x{f['ratio']:.2f}, target <= x{TARGET_FLAT_RSS:.2f}: {_met(f['met'])}; "
        f"{f['seconds'][1]:.0f} s)"
    )
    print()


def _print_growth(r: dict[str, Any]) -> None:
    print("(e) growth: time and peak RSS (flow process; pre-fill process)")
    print(
        f"    {'backend':<11}{'articles':>9}{'total s':>9}{'flow s':>8}{'CPU s':>7}"
        f"{'flow art/s':>11}{'flow MB':>9}{'fill s':>8}{'fill MB':>8}  path"
    )
    for g in r["growth"]:
        print(
            f"    {g['backend']:<11}{g['articles']:>9,}{g['seconds']:>9.1f}{g['flow_s']:>8.1f}"
            f"{g['flow_cpu_s']:>7.1f}{g['flow_articles_per_s']:>11,.0f}"
            f"{g['flow_peak_rss_mb']:>9.0f}{g['prefill_s']:>8.1f}{g['prefill_rss_mb']:>8.0f}"
            f"  {g['path']}"
        )
        stages = ", ".join(f"{k} {v:.1f}" for k, v in g["stages_s"].items())
        print(f"    {'':<20}tasks (s): {stages}")
    print()


def _print_hotspots(r: dict[str, Any]) -> None:
    h = r["hotspots"]
    stages = ", ".join(f"{k} {v / h['profiled_s']:.0%}" for k, v in h["stage_s"].items())
    print(f"hot spots: {h['articles']:,} articles through the stages under cProfile ({stages})")
    print("    most self time:")
    for row in h["self"][:10]:
        print(f"      {row['self_share']:6.1%}  {row['where']}")
    print("    project functions by cumulative time:")
    for row in h["cumulative"][:14]:
        print(f"      {row['cum_share']:6.1%}  {row['where']}")


def print_latency(lat: dict[str, Any]) -> None:
    """(i) publication -> alert in `serve` and in a one-off `run`."""
    serve, run = lat["serve"], lat["run"]
    print(
        f"(i) publication -> alert: one new item among {lat['feeds']:,} unchanged feeds (304) "
        f"and one feed that stalls {lat['stall_s']:g} s before answering"
    )
    print(
        f"    serve: tick -> alert {serve['tick_to_alert_s']:.1f} s (publication -> alert "
        f"{serve['publication_to_alert_s']:.1f} s; published {serve['published_before_tick_s']:.1f}"
        f" s before the tick of cron '{serve['cron']}')"
    )
    _print_poll_timeline("tick", serve)
    print(
        f"    one-off run: start -> alert {run['start_to_alert_s']:.1f} s, process "
        f"{run['process_s']:.1f} s ({run['cpu_s']:.1f} CPU-s, peak {run['peak_rss_mb']:.0f} MB)"
    )
    _print_poll_timeline("start", run)
    print(f"    load average at the end: {lat['load_average_at_end']}")


def _print_poll_timeline(origin: str, f: dict[str, Any]) -> None:
    news = f"{f['to_news_fetch_s']:.1f} s" if f["to_news_fetch_s"] is not None else "never"
    print(
        f"      from the {origin}: first feed fetched {f['to_first_fetch_s']:.1f} s, the new "
        f"item's feed {news}, the slow feed asked {f['to_slow_request_s']:.1f} s "
        f"({f['slow_requests']} request(s)), last unchanged feed {f['to_last_fetch_s']:.1f} s; "
        f"{f['responses_304']} x 304"
    )
