"""Measurements without Prefect: the bare floor, detection alone, feed parsing, store pre-fill."""

from __future__ import annotations

import io
import time
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from bench.floor import build_automaton, match_pass, measure_floor, rule_terms
from bench.generator import ArticleGenerator, SyntheticArticle, event_sentences
from core.model import DetectionInput, SourceSpec


def midnight(day: date) -> datetime:
    """00:00 UTC of `day`: the publication time a seed file's date header gives."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def generate(args: dict[str, Any], start: int, stop: int) -> list[SyntheticArticle]:
    """The same articles the seed files and feeds of this run hold."""
    generator = ArticleGenerator(event_sentences(args["rules_dir"]), seed=args["seed"])
    return list(generator.articles(start, stop))


def detection_rate(ruleset: Any, articles: Sequence[SyntheticArticle]) -> dict[str, Any]:
    """detect.detect over every article, as the detect stage calls it."""
    import detect

    inputs = [
        DetectionInput(a.guid, a.title, a.body, midnight(a.published), True) for a in articles
    ]
    start, cpu = time.perf_counter(), time.process_time()
    matches = sum(len(detect.detect(ruleset, item)) for item in inputs)
    elapsed, cpu_s = time.perf_counter() - start, time.process_time() - cpu
    return {
        "seconds": elapsed,
        "cpu_s": cpu_s,
        "per_s": len(inputs) / elapsed,
        "per_cpu_s": len(inputs) / cpu_s,
        "matches": matches,
    }


def simhash_rate(articles: Sequence[SyntheticArticle]) -> dict[str, Any]:
    """SimHash of every article's text: as storing computes it for new rows (core.simhashes,
    a replay's chunk of 1,000 at a time), and one text at a time (core.text.simhash)."""
    from core.simhashes import simhashes
    from core.text import simhash

    texts = [a.body for a in articles]
    start, cpu = time.perf_counter(), time.process_time()
    hashed = sum(
        value is not None
        for first in range(0, len(texts), 1000)
        for value in simhashes(texts[first : first + 1000])
    )
    elapsed, cpu_s = time.perf_counter() - start, time.process_time() - cpu
    one_cpu = time.process_time()
    for text in texts:
        simhash(text)
    one_cpu_s = time.process_time() - one_cpu
    return {
        "per_s": len(texts) / elapsed,
        "per_cpu_s": len(texts) / cpu_s,
        "one_at_a_time_per_cpu_s": len(texts) / one_cpu_s,
        "hashed": hashed,
    }


def fetch_bodies(server: str, feeds: int) -> list[bytes]:
    """The bodies of feeds 0..feeds-1 from the local feed server."""
    import httpx

    with httpx.Client(base_url=server) as client:
        return [client.get(f"/feed/{i}.xml").content for i in range(feeds)]


def feedparser_rates(server: str, feeds: int) -> dict[str, Any]:
    """Items per second: bare feedparser (its defaults), and the rss adapter's parse_feed
    (feedparser without sanitising, plus HTML to text and Article building). Both run with
    `adapters.feeds.parserfast` installed (importing the adapter installs it process-wide), so
    the difference is the adapter's own work."""
    import feedparser

    from adapters.feeds.parse import parse_feed

    bodies = fetch_bodies(server, feeds)
    start = time.perf_counter()
    items = sum(len(feedparser.parse(io.BytesIO(body)).entries) for body in bodies)
    bare_s = time.perf_counter() - start
    start = time.perf_counter()
    parsed = sum(
        len(parse_feed(body, source=f"f{i}", url=f"{server}/feed/{i}.xml").articles)
        for i, body in enumerate(bodies)
    )
    adapter_s = time.perf_counter() - start
    return {
        "feeds": feeds,
        "items": items,
        "bytes": sum(len(b) for b in bodies),
        "feedparser_s": bare_s,
        "feedparser_items_per_s": items / bare_s,
        "parse_feed_items": parsed,
        "parse_feed_s": adapter_s,
        "parse_feed_items_per_s": parsed / adapter_s,
    }


def run(args: dict[str, Any]) -> dict[str, Any]:
    """Detection-only and bare-matcher rates, and feed parsing, for `args["count"]` (the bare
    floor has a child of its own, beside each replay: `floor_only`)."""
    from flows.context.config import load_ruleset

    articles = generate(args, 0, args["count"])
    ruleset = load_ruleset(Path(args["rules_dir"]))
    texts = [f"{a.title}\n{a.body}" for a in articles]
    automaton = build_automaton(rule_terms(ruleset))
    match_pass(automaton, texts)  # a first pass, so the matcher's rate is not a cold cache's
    cpu = time.process_time()
    match_s, _ = match_pass(automaton, texts)
    match_cpu_s = time.process_time() - cpu
    return {
        "count": len(articles),
        "mean_bytes": sum(len(a.body.encode()) for a in articles) / len(articles),
        "terms": len(rule_terms(ruleset)),
        "rules": len(ruleset.rules),
        "matcher_per_s": len(articles) / match_s,
        "matcher_per_cpu_s": len(articles) / match_cpu_s,
        "detect": detection_rate(ruleset, articles),
        "simhash": simhash_rate(articles),
        "feeds": feedparser_rates(args["server"], args["feeds"]),
    }


def floor_only(args: dict[str, Any]) -> dict[str, Any]:
    """The bare floor alone for `args["count"]` articles, timed and counted: the half of an (a)
    round that is not the replay (bench.plan.replay_rounds)."""
    from flows.context.config import load_ruleset

    rows = [
        {"guid": a.guid, "title": a.title, "text": a.body} for a in generate(args, 0, args["count"])
    ]
    ruleset = load_ruleset(Path(args["rules_dir"]))
    cpu = time.process_time()
    floor = measure_floor(ruleset, args["floor_url"], rows)
    cpu_s = time.process_time() - cpu
    return {
        "match_s": floor.match_s,
        "insert_s": floor.insert_s,
        "total_s": floor.total_s,
        "per_s": floor.per_s,
        "cpu_s": cpu_s,
        "per_cpu_s": floor.count / cpu_s,
        "hits": floor.hits,
        "inserted": floor.inserted,
    }


def prefill(args: dict[str, Any]) -> dict[str, Any]:
    """Grow a store to `args["stop"]` articles the cheap way: bulk inserts into the store's
    articles table, outside the pipeline.

    Rows are copies of generated articles, each made unique (guid, first line, content hash),
    so the table holds realistic ~3 KB rows; they carry no SimHash (computing one costs
    milliseconds per article), so they take no part in near-duplicate lookups.
    """
    import db
    from core.text import content_hash
    from db.models import articles, detection_queue
    from flows.context.runtime import engine_for, transaction

    spec = SourceSpec(name=args["source"], kind="seedfiles", location=args["folder"])
    with transaction(args["database_url"]) as session:  # migrates a fresh store first
        source_id = db.upsert_sources(session, [spec])[spec.name]
    base = generate(args, 0, min(args["base"], args["stop"]))
    engine = engine_for(args["database_url"])
    dialect = postgresql if engine.dialect.name == "postgresql" else sqlite
    stmt = (
        dialect.insert(articles).on_conflict_do_nothing().returning(articles.c.id, articles.c.guid)
    )
    now, start = datetime.now(UTC), time.perf_counter()
    for first in range(args["start"], args["stop"], args["batch"]):
        rows = [
            _prefill_row(base[n % len(base)], n, source_id, now, content_hash)
            for n in range(first, min(first + args["batch"], args["stop"]))
        ]
        with engine.begin() as connection:
            stored = connection.execute(stmt, rows).all()
            if stored:
                connection.execute(
                    detection_queue.insert(),
                    [_detected(id_, guid, source_id) for id_, guid in stored],
                )
    seconds = time.perf_counter() - start
    with engine.connect() as connection:
        stored = connection.scalar(sa.select(sa.func.count()).select_from(articles))
    return {"stored": int(stored or 0), "seconds": seconds}


def _prefill_row(
    item: SyntheticArticle, n: int, source_id: int, now: datetime, hasher: Any
) -> dict[str, Any]:
    title, text = f"{item.title} ({n})", f"Update {n}. {item.body}"
    return {
        "source_id": source_id,
        "guid": f"prefill-{n:07d}",
        "title": title,
        "text": text,
        "published_at": midnight(item.published),
        "fetched_at": now,
        "content_hash": hasher(title, text),
        "raw": {"file": f"prefill-{n:07d}.txt"},
    }


def _detected(article_id: int, guid: str, source_id: int) -> dict[str, Any]:
    """The queue row of a prefilled article: stored long ago and detected then, so the replay
    on top must not analyse it again."""
    return {
        "article_id": article_id,
        "state": "done",
        "guid": guid,
        "source_id": source_id,
        "revision": 0,
        "dated": True,
    }
