"""`serve`'s runs poll before Prefect's engine starts (flows.serving.servedruns): a tick that finds
nothing new completes its flow run without the engine; a tick that stores something runs the
flow, which follows that polling instead of polling again; a run whose configuration fails
before the engine fails as any run does. Real runs of the served deployment, forked from the
warm process, against a real feed server, on the test Prefect API."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from flows.context.settings import Settings, load_settings
from flows.monitor import PROCESS_LABEL
from flows.serving.deployments import monitor_deployment
from flows.serving.serve import serve_monitor
from tests.adapters.feedserver import FeedServer
from tests.adapters.monitorkit import (
    Src,
    add_feeds,
    health,
    rss_feed,
    stored_items,
    task_run_names,
    write_sources,
)

pytestmark = pytest.mark.usefixtures("prefect_harness")

FEED = "/feed/served.xml"


@pytest.fixture
def server() -> Iterator[FeedServer]:
    feeds = FeedServer().start()
    add_feeds(feeds, ["served"], count=3)
    yield feeds
    feeds.close()


@pytest.fixture
def served(
    server: FeedServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[Settings, UUID, str]:
    """(settings, the applied monitor deployment, the store's URL) for one served feed."""
    sources = write_sources(tmp_path / "sources.yaml", server, [Src("Served Desk", FEED)])
    url = f"sqlite:///{tmp_path / 'served.db'}"
    # What `watchfloor serve --db URL` does: the served run's process inherits it.
    monkeypatch.setenv("WATCHFLOOR_DATABASE_URL", url)
    monkeypatch.setenv("WATCHFLOOR_NOTIFY_URLS", "[]")
    settings = load_settings(sources_file=sources)
    return settings, monitor_deployment(settings).apply(), url


def api(call: Any) -> Any:
    from prefect.client.orchestration import get_client

    async def main() -> Any:
        async with get_client() as client:
            return await call(client)

    return asyncio.run(main())


def serve_one_tick(settings: Settings, deployment_id: UUID) -> Any:
    """One run of the deployment, due now, executed by `serve`'s runner; the run read back."""
    # Every source polled on every tick, whatever its interval: the ticks follow each other.
    run = api(
        lambda client: client.create_flow_run_from_deployment(
            deployment_id, parameters={"all_sources": True}
        )
    )
    serve_monitor(settings, run_once=True)
    return api(lambda client: client.read_flow_run(run.id))


def test_a_tick_with_nothing_new_completes_its_run_without_the_engine(
    server: FeedServer, served: tuple[Settings, UUID, str]
) -> None:
    from prefect.client.schemas.objects import StateType

    settings, deployment_id, url = served
    first = serve_one_tick(settings, deployment_id)
    assert first.state.type == StateType.COMPLETED, first.state
    assert task_run_names(first.id), "the engine ran the flow's stages"
    assert sum(stored_items(url).values()) == 3
    polled_before = health(url)["Served Desk"].last_fetch_at

    server.reset_counters()
    quiet = serve_one_tick(settings, deployment_id)

    assert quiet.state.type == StateType.COMPLETED, quiet.state
    assert quiet.state.message.startswith("nothing new: 1 sources polled (0 failed)")
    assert task_run_names(quiet.id) == [], "no engine, no task runs"
    assert quiet.labels.get(PROCESS_LABEL), "labelled with its process, as the flow does"
    assert server.statuses == [(FEED, 304)], "one conditional request"
    assert health(url)["Served Desk"].last_fetch_at > polled_before, "and one store write"
    assert sum(stored_items(url).values()) == 3
    assert servers_started_in_this_test() == [], "the runs used serve's API, started none"


def servers_started_in_this_test() -> list[int]:
    """Prefect API servers started while this test ran (their environment says so): a run
    whose Prefect client found no API URL would have started one of its own."""
    marker = f"PYTEST_CURRENT_TEST={os.environ['PYTEST_CURRENT_TEST']}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        try:
            command = (entry / "cmdline").read_bytes()
            environment = (entry / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"prefect.server.api.server:create_app" in command and marker in environment:
            found.append(int(entry.name))
    return found


def test_a_tick_that_stores_something_runs_the_flow_on_that_polling(
    server: FeedServer, served: tuple[Settings, UUID, str]
) -> None:
    from prefect.client.schemas.objects import StateType

    settings, deployment_id, url = served
    serve_one_tick(settings, deployment_id)
    server.files["served.xml"] = rss_feed("served", 4)  # one item more
    server.reset_counters()

    busy = serve_one_tick(settings, deployment_id)

    assert busy.state.type == StateType.COMPLETED, busy.state
    assert not (busy.state.message or "").startswith("nothing new")
    assert task_run_names(busy.id), "the engine ran the flow's stages"
    assert sum(stored_items(url).values()) == 4
    assert server.statuses == [(FEED, 200)], "the flow followed the polling: no second request"


def test_a_run_whose_sources_file_fails_before_the_engine_fails_as_any_run_does(
    server: FeedServer, served: tuple[Settings, UUID, str]
) -> None:
    from prefect.client.schemas.objects import StateType

    settings, deployment_id, _ = served
    assert settings.sources_file is not None
    settings.sources_file.write_text("sources: [{name: no url}]\n", encoding="utf-8")

    failed = serve_one_tick(settings, deployment_id)

    assert failed.state.type == StateType.FAILED, failed.state
    assert str(settings.sources_file) in (failed.state.message or "")
    assert server.statuses == []


def test_a_run_started_before_its_tick_polls_at_its_tick(
    server: FeedServer, served: tuple[Settings, UUID, str]
) -> None:
    import prefect.flow_engine
    from prefect.states import Pending, Scheduled

    from flows.monitor import monitor_flow
    from flows.serving.forkruns import runs_forked_from_a_warm_process

    _, deployment_id, url = served
    with runs_forked_from_a_warm_process({}):
        # The runner starts a run's process up to 10 s before it is due (its prefetch), as
        # here: the process starts at once, forked from a warm process.
        due = datetime.now(UTC) + timedelta(seconds=15)
        run = api(
            lambda client: client.create_flow_run_from_deployment(
                deployment_id, state=Scheduled(scheduled_time=due)
            )
        )
        api(lambda client: client.set_flow_run_state(run.id, Pending()))
        process = prefect.flow_engine.run_flow_in_subprocess(monitor_flow, flow_run=run)
        process.join(timeout=300)

    assert process.exitcode == 0
    polled = health(url)["Served Desk"].last_fetch_at
    assert polled is not None
    assert polled.replace(tzinfo=polled.tzinfo or UTC) >= due
