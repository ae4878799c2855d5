"""Kill -9 a one-off `watchfloor run` at any moment, run it again: nothing is lost or sent twice.

A run polls its sources before Prefect starts (`flows.runs.oneoff`), so it has a window of its own:
articles stored by the polling, Prefect still starting, nothing detected yet. Real processes:
`watchfloor run` over the labelled corpus served as five RSS feeds by a local HTTP server, into
a real SQLite store, alerting a webhook receiver on 127.0.0.1 (slow while a run to be killed
sends). A run is killed with SIGKILL (its whole process group) at a moment read off the store:
the polling has stored (the run's own temporary Prefect API still starting, in its group),
detection has begun, the first alert is sent (these two on the session's Prefect API, as runs of
a deployment use their server's: nothing of the rerun depends on the killed flow run left
`Running` there, and the run is spared starting an API only to be killed). Then `watchfloor
run` runs again (the sources polled before the kill are not due: what they stored must still
be detected and sent). Every time, the store holds every article once and every article's
evidence as a clean run has it, nothing awaits detection or sending, and the receiver got every
alert the store raised, at most one of them twice. The clean run and the reruns, which are not
killed, use the session's Prefect API and a receiver that answers at once.

Unlike a replay's, a monitor cycle's developments are not compared whole: detection runs beside
the fetches on what is stored so far, so an article stored after detection began is joined
after articles it would precede in a replay, and how reports group into developments can follow
fetch timing. (Articles of one moment stored before detection are taken in key order, whichever
feed answered first: tests/flows/test_detect_queue.py.) What each article is evidence of does not
depend on it, and is compared.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import pytest
import sqlalchemy as sa

from tests.adapters.feedserver import FeedServer
from tests.adapters.monitorkit import Src, write_sources
from tests.flows.killkit import (
    CORPUS,
    Probe,
    counts,
    developments,
    hook_url,
    hooks_receiver,
    kill_when,
    run_to_end,
    slowly,
    start_watchfloor,
    take,
)
from tests.notify.receivers import HttpReceiver

FEEDS = 5
PUBLISHED = "2026-01-20T09:00:00+00:00"

MOMENTS: dict[str, Probe] = {
    "polled": lambda c: c["articles"] > 0,
    "detecting": lambda c: c["detected"] > 0,
    "first-sent": lambda c: c["sent"] >= 1,
}
# The moments whose killed run starts its own temporary API: the polled one is the window of a
# run whose Prefect is still starting.
OWN_API = frozenset({"polled"})


def corpus_feeds() -> dict[str, bytes]:
    """The corpus as FEEDS RSS feeds (file name -> body), every item published at PUBLISHED."""
    from datetime import datetime

    when = format_datetime(datetime.fromisoformat(PUBLISHED))
    items: list[list[str]] = [[] for _ in range(FEEDS)]
    for n, line in enumerate(CORPUS.read_text(encoding="utf-8").splitlines()):
        record = json.loads(line)
        title = record["title"] or record["text"].split("\n", 1)[0][:120]
        items[n % FEEDS].append(
            f"<item><title>{escape(title)}</title>"
            f'<guid isPermaLink="false">{escape(record["id"])}</guid>'
            f"<pubDate>{when}</pubDate>"
            f"<description>{escape(record['text'])}</description></item>"
        )
    return {
        f"corpus-{k}.xml": (
            '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
            f"<title>Corpus {k}</title>{''.join(feed)}</channel></rss>"
        ).encode()
        for k, feed in enumerate(items)
    }


@pytest.fixture(scope="module")
def server() -> Iterator[FeedServer]:
    feeds = FeedServer().start()
    feeds.files.update(corpus_feeds())
    yield feeds
    feeds.close()


@pytest.fixture
def sources(server: FeedServer, tmp_path: Path) -> Path:
    return write_sources(
        tmp_path / "sources.yaml",
        server,
        [Src(f"Corpus Desk {k}", f"/feed/corpus-{k}.xml") for k in range(FEEDS)],
    )


def start_run(tmp_path: Path, url: str, hook: str, sources: Path, n: int, api: str | Path) -> Any:
    """`watchfloor run` in a process group of its own, with a Prefect home of its own, on the
    Prefect API at `api` (a URL) or on one of its own started in a copy of the home `api`."""
    args = ["run", "--sources", str(sources), "--db", url, "--notify", hook, "--json"]
    allow = {"WATCHFLOOR_FETCH_ALLOW_NETWORKS": "127.0.0.1"}
    if isinstance(api, Path):
        return start_watchfloor(tmp_path, n, args, allow, prefect_home=api)
    return start_watchfloor(tmp_path, n, args, allow, api_url=api)


@pytest.mark.slow
@pytest.mark.timeout(1800)  # seven real runs
def test_kill_9_a_run_anywhere_then_rerun_equals_a_clean_run(
    sources: Path, tmp_path: Path, prefect_api_url: str, used_prefect_home: Path
) -> None:
    with hooks_receiver() as hooks:
        kill_and_rerun_each_moment(hooks, sources, tmp_path, prefect_api_url, used_prefect_home)


def kill_and_rerun_each_moment(
    hooks: HttpReceiver, sources: Path, tmp_path: Path, api_url: str, prefect_home: Path
) -> None:
    """A clean run, then for each moment a run killed at it and a rerun, compared. A killed
    run of OWN_API starts its own Prefect API (in a copy of `prefect_home`), which the kill
    takes down with it, as when a machine dies; the others use the session's API (`api_url`).
    Killed runs send slowly; the clean run and the reruns send without the wait."""

    def store(name: str) -> str:
        return f"sqlite:///{tmp_path / (name + '.db')}"

    hook = hook_url(hooks)
    clean_url = store("clean")
    run_to_end(start_run(tmp_path, clean_url, hook, sources, 0, api_url))
    clean_engine = sa.create_engine(clean_url)
    clean, clean_counts = evidence(clean_engine), counts(clean_engine)
    clean_engine.dispose()
    clean_alerts = take(hooks)
    assert clean_counts["alerts"] == sum(clean_alerts.values()) > 10
    assert clean_counts["pending"] == clean_counts["unsent"] == 0

    for n, (moment, probe) in enumerate(MOMENTS.items(), start=1):
        url = store(moment.replace("-", "_"))
        engine = sa.create_engine(url)
        with slowly(hooks):
            api = prefect_home if moment in OWN_API else api_url
            killed = start_run(tmp_path, url, hook, sources, n, api)
            at_kill = kill_when(killed, engine, probe, moment)
        run_to_end(start_run(tmp_path, url, hook, sources, n + 100, api_url))
        received, after = take(hooks), counts(engine)
        assert evidence(engine) == clean, (moment, at_kill)
        engine.dispose()
        assert after["articles"] == clean_counts["articles"], "every article stored once"
        assert (after["pending"], after["unsent"]) == (0, 0), (moment, at_kill)
        assert len(received) == after["alerts"] > 10, f"{moment}: every alert raised, sent"
        assert sum(received.values()) - len(received) <= 1, f"{moment}: alerts sent twice"


def evidence(engine: sa.Engine) -> set[tuple[str, str, str]]:
    """(category, source, guid): what each article is evidence of, however grouped."""
    return {
        (category, source, guid)
        for category, *_, items in developments(engine)
        for source, guid in items
    }
