"""Prefect task runs per monitor cycle do not grow with the number of feeds: one ingest task
fetches and stores the sources (at most `fetch_batch_size` in flight), and one detect-and-send
task runs beside it.
Counted from the task runs the Prefect API recorded for each flow run."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.adapters.feedserver import FeedServer
from tests.adapters.monitorkit import (
    Src,
    add_feeds,
    prefect_api,
    run_monitor,
    task_run_names,
    write_sources,
)
from tests.conftest import store_env

pytestmark = pytest.mark.usefixtures("prefect_harness")

STAGES = {"ingest": 1, "detect-and-send": 1}


@pytest.fixture(scope="module")
def server() -> Iterator[FeedServer]:
    feeds = FeedServer().start()
    add_feeds(feeds, [f"feed-{i:02d}" for i in range(60)], count=2)
    yield feeds
    feeds.close()


def cycle(server: FeedServer, folder: Path, feeds: int) -> tuple[Counter[str], int]:
    """(task runs by stage, articles stored) of one monitor run over `feeds` sources."""
    sources = [Src(f"feed-{i:02d}", f"/feed/feed-{i:02d}.xml") for i in range(feeds)]
    path = write_sources(folder / f"sources-{feeds}.yaml", server, sources)
    url = f"sqlite:///{folder / f'store-{feeds}.db'}"
    with store_env(url):
        report, run_id = run_monitor(sources_file=str(path))
    assert {line.status for line in report.sources} == {"ok"}
    # Task run names are "<task>-<suffix>".
    return Counter(name.rsplit("-", 1)[0] for name in task_run_names(run_id)), report.new_articles


def test_three_and_sixty_feeds_take_the_same_task_runs(server: FeedServer, tmp_path: Path) -> None:
    few, stored_few = cycle(server, tmp_path, 3)
    many, stored_many = cycle(server, tmp_path, 60)
    assert (stored_few, stored_many) == (6, 120)
    assert few == many == Counter(STAGES)


def test_fetch_batches_stay_inside_one_ingest_task(
    server: FeedServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WATCHFLOOR_FETCH_BATCH_SIZE", "25")
    tasks, stored = cycle(server, tmp_path, 60)
    assert stored == 120
    assert tasks == Counter(STAGES)  # a window of 25 sources, in one task


def test_a_deployment_run_ends_labelled_with_its_process(
    server: FeedServer, tmp_path: Path
) -> None:
    # As a work pool's worker runs one: the engine on a run of a deployment that nobody labelled
    # first. The label is written beside the cycle (flows.monitor.run_process_recorded) and the
    # run ends only once it is: `serve` reads it to tell a run whose process has ended.
    from prefect.client.orchestration import get_client
    from prefect.flow_engine import run_flow

    from flows.context.liveness import process_identity
    from flows.monitor import PROCESS_LABEL, monitor_flow

    path = write_sources(tmp_path / "sources.yaml", server, [Src("feed-00", "/feed/feed-00.xml")])
    parameters = {"sources_file": str(path)}
    with get_client(sync_client=True) as client:
        flow_id = client.create_flow(monitor_flow)
        deployment_id = client.create_deployment(flow_id, "worker-run", parameters=parameters)
        run = client.create_flow_run_from_deployment(deployment_id, parameters=parameters)
    with store_env(f"sqlite:///{tmp_path / 'store.db'}"):
        run_flow(monitor_flow, flow_run=run, parameters=parameters)
    (read,) = prefect_api("/flow_runs/filter", {"flow_runs": {"id": {"any_": [str(run.id)]}}})
    assert read["state_type"] == "COMPLETED"
    assert read["labels"][PROCESS_LABEL] == process_identity()


def test_a_run_of_no_deployment_is_not_labelled(server: FeedServer, tmp_path: Path) -> None:
    # `serve` checks only its deployment's runs: a one-off run skips the write.
    from flows.monitor import PROCESS_LABEL

    path = write_sources(tmp_path / "sources.yaml", server, [Src("feed-00", "/feed/feed-00.xml")])
    with store_env(f"sqlite:///{tmp_path / 'store.db'}"):
        _, run_id = run_monitor(sources_file=str(path))
    (run,) = prefect_api("/flow_runs/filter", {"flow_runs": {"id": {"any_": [str(run_id)]}}})
    assert run["state_type"] == "COMPLETED"
    assert PROCESS_LABEL not in (run["labels"] or {})


def test_a_quiet_cycle_publishes_no_artifact(server: FeedServer, tmp_path: Path) -> None:
    # As `serve`'s quiet cycles: a run that found nothing new, sent nothing and heard from every
    # source has nothing to show (flows.stages.artifact.worth_publishing).
    from flows.monitor import ARTIFACT_KEY

    sources = [Src(f"feed-{i:02d}", f"/feed/feed-{i:02d}.xml") for i in range(3)]
    path = write_sources(tmp_path / "sources.yaml", server, sources)
    with store_env(f"sqlite:///{tmp_path / 'store.db'}"):
        first, first_id = run_monitor(sources_file=str(path), all_sources=True)
        quiet, quiet_id = run_monitor(sources_file=str(path), all_sources=True)
    assert first.new_articles == 6 and quiet.new_articles == 0
    assert {line.status for line in quiet.sources} <= {"not_modified", "unchanged"}

    def artifacts(run_id: object) -> list[dict[str, object]]:
        query = {"key": {"any_": [ARTIFACT_KEY]}, "flow_run_id": {"any_": [str(run_id)]}}
        return list(prefect_api("/artifacts/filter", {"artifacts": query, "limit": 10}))

    assert len(artifacts(first_id)) == 1
    assert artifacts(quiet_id) == []
