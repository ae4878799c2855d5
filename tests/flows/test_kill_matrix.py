"""Kill -9 at any moment, rerun: the result equals a clean run's.

Real processes: `watchfloor replay` over ~475 real article files (the labelled corpus, each text
published on two dates, plus the seeds) into a real store, alerting a real webhook receiver on
127.0.0.1 that answers slowly enough for sending to take a while. A run is killed with SIGKILL (its
whole process group, as when a container or machine dies) at a moment read off the store: right
after the store committed, during detection, between detection and sending, at the first sent
alert, halfway through sending. Then the same command runs again to the end. Every time, the store
holds exactly the clean run's developments, nothing awaits detection or sending, and the receiver
got every alert of the clean run, at most one of them twice per kill (the documented window: a send
whose record was not written). Every run uses the session's Prefect API, as runs of a deployment
use their server's: a killed run's flow run stays `Running` there, and nothing of the rerun
depends on it (what is compared is the store and the alerts). The window of a run killed while
its own temporary API starts is a one-off run's: tests/flows/test_kill_run.py. Runs that are
not killed use a receiver that answers at once.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from flows.runs.replayplan import REPLAY_CHUNK_FILES
from flows.stages.tasks import REPLAY_DETECT_CHUNK
from tests.conftest import SEEDS
from tests.flows.killkit import (
    CORPUS,
    Probe,
    clean_run,
    hook_url,
    hooks_receiver,
    kill_when,
    repeats_after_rerun,
    run_to_end,
    slowly,
    start_watchfloor,
)
from tests.notify.receivers import HttpReceiver

DATES = ("2026-01-10", "2026-01-20")

# name -> when to kill, read off the store's counts
MOMENTS: dict[str, Probe] = {
    "stored": lambda c: c["articles"] > 0,
    "detecting": lambda c: c["detected"] > 0,
    "detected-not-sent": lambda c: c["alerts"] > 0 and c["pending"] == 0 and c["sent"] == 0,
    "first-sent": lambda c: c["sent"] >= 1,
    "half-sent": lambda c: c["sent"] >= c["alerts"] // 2 > 0,
}


@pytest.fixture
def hooks() -> Iterator[HttpReceiver]:
    with hooks_receiver() as receiver:
        yield receiver


def corpus_files(folder: Path, dates: tuple[str, ...]) -> Path:
    """`folder` filled with the corpus as seed files, each text on each of `dates`, and the
    seeds."""
    for line in CORPUS.read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        title = item["title"] or item["text"].split("\n", 1)[0][:120]
        for n, day in enumerate(dates):
            text = f"date: {day}\n{title}\n\n{item['text']}\n"
            (folder / f"{item['id']}-{n}.txt").write_text(text, encoding="utf-8")
    for seed in sorted(SEEDS.glob("*.txt")):
        (folder / seed.name).write_bytes(seed.read_bytes())
    return folder


@pytest.fixture(scope="module")
def articles(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The corpus as seed files, each text on two dates, and the seeds."""
    return corpus_files(tmp_path_factory.mktemp("articles"), DATES)


def start_replay(tmp_path: Path, url: str, hook_url: str, folder: Path, n: int, api: str) -> Any:
    """The replay on the Prefect API at `api`."""
    args = ["replay", str(folder), "--db", url, "--notify", hook_url, "--json"]
    return start_watchfloor(tmp_path, n, args, api_url=api)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def new_store(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[str], str]:
    """Makes empty stores on the backend: name -> URL."""
    if request.param == "sqlite":
        return lambda name: f"sqlite:///{tmp_path / (name + '.db')}"
    from tests.pgserver import create_database

    server = request.getfixturevalue("pg_server")
    return lambda name: create_database(server, f"kill_{name}_{os.getpid()}")


@pytest.mark.slow
@pytest.mark.timeout(2400)  # eleven real replays
def test_kill_9_anywhere_then_rerun_equals_a_clean_run(
    new_store: Callable[[str], str],
    hooks: HttpReceiver,
    articles: Path,
    tmp_path: Path,
    prefect_api_url: str,
) -> None:
    clean_url = new_store("clean")
    run_to_end(start_replay(tmp_path, clean_url, hook_url(hooks), articles, 0, prefect_api_url))
    clean_engine = sa.create_engine(clean_url)
    clean = clean_run(clean_engine, hooks)
    clean_engine.dispose()
    assert len(clean.alerts) > 20

    results = {}
    for n, (moment, probe) in enumerate(MOMENTS.items(), start=1):
        url = new_store(moment.replace("-", "_"))
        engine = sa.create_engine(url)
        with slowly(hooks):
            proc = start_replay(tmp_path, url, hook_url(hooks), articles, n, prefect_api_url)
            at_kill = kill_when(proc, engine, probe, moment)
        rerun = start_replay(tmp_path, url, hook_url(hooks), articles, n + 100, prefect_api_url)
        run_to_end(rerun)
        results[moment] = (at_kill, repeats_after_rerun(engine, hooks, clean, moment))
        engine.dispose()
    print(f"\nkill matrix: {len(clean.alerts)} alerts, {clean.counts['articles']} articles")
    for moment, (at_kill, repeats) in results.items():
        print(f"  {moment}: killed at {at_kill}; after rerun: equal, {repeats} repeated")


# A replay of more than one chunk of REPLAY_CHUNK_FILES files: the process analysing ahead
# (flows/stages/ahead.py) runs beside it, and the detect stage records chunks of
# REPLAY_DETECT_CHUNK.
LONG_DATES = tuple(f"2026-02-{day:02d}" for day in (3, 10, 17, 24, 28))


def mid_detection(counts: dict[str, int]) -> bool:
    """When to kill: once the first detect chunk committed, with analyses made ahead, and the
    second not yet. (A kill while storing is the matrix's "stored": the process writes nothing,
    so it changes nothing there.)"""
    return counts["detected"] > 0


@pytest.fixture(scope="module")
def long_replay(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The corpus on five dates and the seeds: more files than one replay chunk."""
    folder = corpus_files(tmp_path_factory.mktemp("long"), LONG_DATES)
    assert REPLAY_CHUNK_FILES < len(list(folder.iterdir())) <= 2 * REPLAY_CHUNK_FILES
    return folder


@pytest.mark.slow
@pytest.mark.timeout(1200)  # three real replays
def test_kill_9_a_replay_analysed_ahead_then_rerun_equals_a_clean_run(
    hooks: HttpReceiver, long_replay: Path, tmp_path: Path, prefect_api_url: str
) -> None:
    clean_url = f"sqlite:///{tmp_path / 'clean.db'}"
    clean_proc = start_replay(tmp_path, clean_url, hook_url(hooks), long_replay, 0, prefect_api_url)
    run_to_end(clean_proc)
    log = (clean_proc.home / "err").read_text()
    assert "analysis-ahead" in log, "the replay ran with its process analysing ahead"
    clean_engine = sa.create_engine(clean_url)
    clean = clean_run(clean_engine, hooks)
    clean_engine.dispose()
    assert clean.counts["articles"] > REPLAY_DETECT_CHUNK

    url = f"sqlite:///{tmp_path / 'killed.db'}"
    engine = sa.create_engine(url)
    with slowly(hooks):
        proc = start_replay(tmp_path, url, hook_url(hooks), long_replay, 1, prefect_api_url)
        at_kill = kill_when(proc, engine, mid_detection, "mid-detection")
    assert at_kill["pending"] > 0, "killed with articles awaiting detection"
    run_to_end(start_replay(tmp_path, url, hook_url(hooks), long_replay, 2, prefect_api_url))
    repeats_after_rerun(engine, hooks, clean, "mid-detection")
    engine.dispose()
