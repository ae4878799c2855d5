"""Kill -9 a served run's own process mid-cycle, serve the next tick: the result equals a clean
run's (DESIGN: every step after the store is durable work taken from the store).

`serve`'s runs poll before Prefect's engine starts (flows.serving.servedruns). A run is killed while
it fetches (nothing stored), right after its polling stored articles (before the engine that would
detect them has started), while it sends (alerts written, some delivered), and when every feed is
stored but detection or sending is unfinished (the next tick then finds nothing new to fetch and
must take its work from the store, `flows.runs.idle.stored_work`). Real runs of the served
deployment, forked from the warm process, against a real feed server whose feeds answer late (so
each moment lasts), alerting a real webhook receiver on 127.0.0.1. The run's process is found by the
label it puts on its flow run (`flows.monitor.PROCESS_LABEL`) and killed at a moment read off the
store; the run must end crashed, not left running. The next tick, on the same store, must leave
exactly the developments and alerts of a clean tick on another store, nothing awaiting detection or
sending, and each alert sent at most once more than the clean run sent it (the documented window: a
send whose record was not written).
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest
import sqlalchemy as sa

from flows.context.settings import Settings, load_settings
from flows.monitor import PROCESS_LABEL
from flows.serving.deployments import monitor_deployment
from flows.serving.serve import serve_monitor
from tests.adapters.feedserver import FeedServer
from tests.adapters.monitorkit import Src, write_sources
from tests.flows.killkit import clean_run, counts, hook_url, hooks_receiver, repeats_after_rerun
from tests.flows.test_serve_restart import lock_holders
from tests.flows.test_served_runs import api, serve_one_tick
from tests.notify.receivers import HttpReceiver

pytestmark = [pytest.mark.usefixtures("prefect_harness"), pytest.mark.slow]

# The feeds answer late, the Korean one first: a run fetches both for KOREA_MS, then has the
# Korean articles stored (and its engine starting) while the Japanese feed still holds it.
KOREA_MS, JAPAN_MS = 2_000, 6_000
SLOW_OK = {"read_timeout_s": 30, "total_timeout_s": 60}
KOREA = f"/slow/{KOREA_MS}/rss2_korea.xml"
JAPAN = f"/slow/{JAPAN_MS}/atom_japan.xml"
HOOK_DELAY_S = 1.0  # per message, while a run that will be killed sends
MOMENT_LIMIT_S = 120
ALL_ARTICLES = 7  # 4 items in rss2_korea.xml, 3 entries in atom_japan.xml

Probe = Callable[[FeedServer, dict[str, int]], bool]

# name -> when to kill the run's process, read off the feed server and the store's counts
MOMENTS: dict[str, Probe] = {
    # both feeds asked, nothing stored yet
    "fetching": lambda s, c: s.hits[KOREA] >= 1 and s.hits[JAPAN] >= 1 and c["articles"] == 0,
    # the Korean articles stored, none detected yet: the engine that detects them is starting
    "stored": lambda s, c: c["articles"] > 0 and c["detected"] == 0,
    # an alert delivered, others written and not
    "sending": lambda s, c: c["sent"] >= 1,
    # every feed stored, detection or sending unfinished: the next tick finds nothing new
    "all-stored": lambda s, c: (
        c["articles"] == ALL_ARTICLES and (c["pending"] > 0 or c["sent"] < c["alerts"])
    ),
}


@pytest.fixture
def feeds() -> Iterator[FeedServer]:
    server = FeedServer().start()
    yield server
    server.close()


@pytest.fixture
def hooks() -> Iterator[HttpReceiver]:
    with hooks_receiver() as receiver:
        yield receiver


@pytest.fixture
def deployment(
    feeds: FeedServer, hooks: HttpReceiver, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[Settings, UUID]:
    """(settings, the applied monitor deployment) for the two late feeds, alerting `hooks`."""
    sources = [Src("Korea Desk", KOREA, SLOW_OK), Src("Japan Desk", JAPAN, SLOW_OK)]
    path = write_sources(tmp_path / "sources.yaml", feeds, sources)
    monkeypatch.setenv("WATCHFLOOR_NOTIFY_URLS", hook_url(hooks))
    settings = load_settings(sources_file=path)
    return settings, monitor_deployment(settings).apply()


def use_store(monkeypatch: pytest.MonkeyPatch, url: str) -> sa.Engine:
    """What `watchfloor serve --db URL` does: the served runs' processes inherit it."""
    monkeypatch.setenv("WATCHFLOOR_DATABASE_URL", url)
    return sa.create_engine(url)


class Killer(threading.Thread):
    """SIGKILLs the process of flow run `run_id` once it has labelled the run with its process
    and `probe` holds for the feed server and the store; `seen` is the store's counts then."""

    def __init__(self, run_id: UUID, feeds: FeedServer, engine: sa.Engine, probe: Probe) -> None:
        super().__init__(name="killer", daemon=True)
        self.run_id, self.feeds, self.engine, self.probe = run_id, feeds, engine, probe
        self.seen: dict[str, int] | None = None
        self.pid: int | None = None

    def run(self) -> None:
        deadline = time.monotonic() + MOMENT_LIMIT_S
        # One client for every look: each new one builds an SSL context (~22 ms of CPU).
        with httpx.Client(timeout=30) as client:
            while self.pid is None and time.monotonic() < deadline:
                self.pid = run_process(client, self.run_id)
                time.sleep(0.05)
        while self.pid is not None and time.monotonic() < deadline:
            seen = counts(self.engine)
            if self.probe(self.feeds, seen):
                os.kill(self.pid, signal.SIGKILL)
                self.seen = seen
                return
            time.sleep(0.01)


def run_process(client: httpx.Client, run_id: UUID) -> int | None:
    """The pid in the run's process label (`host:pid:start`), once the run has one."""
    from prefect.settings import PREFECT_API_URL

    response = client.get(f"{PREFECT_API_URL.value()}/flow_runs/{run_id}")
    response.raise_for_status()
    label = (response.json().get("labels") or {}).get(PROCESS_LABEL)
    return int(label.split(":")[1]) if label else None


def serve_a_tick_killed_when(
    settings: Settings, deployment_id: UUID, feeds: FeedServer, engine: sa.Engine, probe: Probe
) -> tuple[Any, dict[str, int] | None]:
    """One tick, as `serve_one_tick` serves it, whose run's process is killed when `probe`
    holds; (the run read back, the store's counts at the kill, None if it never came)."""
    run = api(
        lambda client: client.create_flow_run_from_deployment(
            deployment_id, parameters={"all_sources": True}
        )
    )
    killer = Killer(run.id, feeds, engine, probe)
    killer.start()
    serve_monitor(settings, run_once=True)
    killer.join(timeout=MOMENT_LIMIT_S)
    return api(lambda client: client.read_flow_run(run.id)), killer.seen


@pytest.mark.timeout(900)  # nine served ticks, each held open seconds by the late feeds
def test_a_served_run_killed_mid_cycle_is_finished_by_the_next_tick(
    deployment: tuple[Settings, UUID],
    feeds: FeedServer,
    hooks: HttpReceiver,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from prefect.client.schemas.objects import StateType

    settings, deployment_id = deployment
    clean_engine = use_store(monkeypatch, f"sqlite:///{tmp_path / 'clean.db'}")
    assert serve_one_tick(settings, deployment_id).state.type == StateType.COMPLETED
    clean = clean_run(clean_engine, hooks)
    clean_engine.dispose()
    assert clean.counts["articles"] == ALL_ARTICLES and len(clean.alerts) >= 2, clean.counts

    results = {}
    for moment, probe in MOMENTS.items():
        engine = use_store(monkeypatch, f"sqlite:///{tmp_path / (moment + '.db')}")
        feeds.reset_counters()
        hooks.respond(delay=HOOK_DELAY_S)
        killed, at_kill = serve_a_tick_killed_when(settings, deployment_id, feeds, engine, probe)
        hooks.respond()
        assert at_kill is not None, f"the moment {moment!r} never came: {killed.state}"
        assert killed.state.type == StateType.CRASHED, (moment, killed.state)

        feeds.reset_counters()
        rerun = serve_one_tick(settings, deployment_id)

        assert rerun.state.type == StateType.COMPLETED, (moment, rerun.state)
        if at_kill["articles"] == ALL_ARTICLES:  # the work left is found in the store
            assert sorted(status for _, status in feeds.statuses) == [304, 304], moment
        repeats = repeats_after_rerun(engine, hooks, clean, moment)
        engine.dispose()
        assert lock_holders(str(engine.url)) == [], f"{moment}: the monitor lease is released"
        results[moment] = (at_kill, repeats, (killed.state.message or "").split(".")[0])
    print(f"\nserved-run kills: {len(clean.alerts)} alerts, {clean.counts['articles']} articles")
    for moment, (at_kill, repeats, crashed) in results.items():
        print(f"  {moment}: killed at {at_kill} ({crashed!r}); next tick equal, {repeats} again")
