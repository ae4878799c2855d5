"""A replay's analysis made ahead in a process of its own (`flows.stages.ahead`) changes how long
detection takes, never what it finds: the same developments, evidence, alerts and article states
as the detect stage analysing alone, whether the process analysed everything, was held back at
its limit, died, or read an article that reads differently now. The process dies with the
replay's.

Real parts: the analysing process is started as a replay starts it, on real SQLite and
PostgreSQL stores filled by the ingest stage's own code from corpus texts and the seeds.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

import adapters
import db
import flows.runs.pipeline
from flows.context.config import RunConfig, load_run_config
from flows.context.runtime import transaction
from flows.context.settings import load_settings
from flows.replay import ChunkBatches
from flows.runs.replayplan import replay_source
from flows.stages.ahead import AnalysisAhead, _held, _unheld, reading_digest
from flows.stages.analysis import Found, analyse_item
from flows.stages.ingest import StoreWatcher, fetch_plan, ingest
from flows.stages.tasks import DetectOutcome, detect_pending
from tests.conftest import ROOT, RULES, SEEDS
from tests.flows.killkit import developments

CORPUS = ROOT / "tests" / "data" / "corpus" / "articles.jsonl"
FILES_PER_CHUNK = 40


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The corpus texts as seed files (dated where the corpus is), and the seeds."""
    folder = tmp_path_factory.mktemp("ahead")
    for line in CORPUS.read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        header = f"date: {item['published'][:10]}\n" if item.get("published") else ""
        title = item["title"] or item["text"].split("\n", 1)[0][:120]
        (folder / f"{item['id']}.txt").write_text(f"{header}{title}\n\n{item['text']}\n", "utf-8")
    for seed in sorted(SEEDS.glob("*.txt")):
        (folder / seed.name).write_bytes(seed.read_bytes())
    return folder


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def new_store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Callable[[str], str]:
    """Makes empty stores on the backend: name -> URL."""
    if request.param == "sqlite":
        folder = tmp_path_factory.mktemp("stores")
        return lambda name: f"sqlite:///{folder / (name + '.db')}"
    from tests.pgserver import create_database

    server = request.getfixturevalue("pg_server")
    return lambda name: create_database(server, f"ahead_{name}_{uuid.uuid4().hex[:12]}")


def config_for(url: str) -> RunConfig:
    return load_run_config(load_settings(database_url=url, rules_dir=RULES))


def store(config: RunConfig, folder: Path, watcher: StoreWatcher | None = None) -> None:
    """The replay's ingest of `folder`, in chunks, telling `watcher` of each commit."""
    spec = replay_source([str(folder)])
    chunks = adapters.plan_replay(spec, FILES_PER_CHUNK).chunks
    plan = fetch_plan(config.settings, [spec], ChunkBatches(chunks), conditional=False)
    ingest(config.database_url, plan, watcher)


def detect_all(config: RunConfig, ahead: AnalysisAhead | None = None) -> DetectOutcome:
    return detect_pending(
        config.database_url,
        config.ruleset,
        config.rules_version,
        config.settings.lookback_days,
        ahead=ahead,
    )


def result(url: str) -> tuple[Any, ...]:
    """What detection left in the store, comparable across stores (no ids)."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            states = connection.execute(
                sa.text("SELECT guid, state, error FROM detection_queue ORDER BY guid")
            ).all()
            alerts = connection.execute(
                sa.text(
                    "SELECT d.category, d.title, a.kind, a.status, a.previous_status, a.rule_id "
                    "FROM alerts a JOIN developments d ON d.id = a.development_id "
                    "ORDER BY 1, 2, 3, 4, 5, 6"
                )
            ).all()
        return developments(engine), [tuple(r) for r in states], [tuple(r) for r in alerts]
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def alone(folder: Path, new_store: Callable[[str], str]) -> tuple[tuple[Any, ...], int]:
    """What the detect stage finds analysing alone, and how many articles it detected."""
    config = config_for(new_store("alone"))
    store(config, folder)
    outcome = detect_all(config)
    found = result(config.database_url)
    assert found[0] and found[2], "the corpus makes developments and alerts"
    return found, outcome.articles


def test_analyses_made_ahead_find_what_the_detect_stage_finds_alone(
    folder: Path, new_store: Callable[[str], str], alone: tuple[tuple[Any, ...], int]
) -> None:
    expected, articles = alone
    config = config_for(new_store("ahead"))
    with AnalysisAhead.start(config.database_url, config.ruleset, config.rules_version) as ahead:
        store(config, folder, ahead)
        wait_until(lambda: ahead.held == articles)
        outcome = detect_all(config, ahead)
    assert outcome.articles == articles > 200
    assert ahead.used == articles, "every analysis was made ahead"
    assert result(config.database_url) == expected


def test_the_detect_stage_analyses_what_has_not_come_yet_itself(
    folder: Path, new_store: Callable[[str], str], alone: tuple[tuple[Any, ...], int]
) -> None:
    expected, articles = alone
    config = config_for(new_store("racing"))
    with AnalysisAhead.start(config.database_url, config.ruleset, config.rules_version) as ahead:
        store(config, folder, ahead)
        outcome = detect_all(config, ahead)  # at once: the two share the work, as they come
    assert outcome.articles == articles
    assert result(config.database_url) == expected


def test_a_process_at_its_limit_reads_on_as_analyses_are_taken(
    folder: Path, new_store: Callable[[str], str], alone: tuple[tuple[Any, ...], int]
) -> None:
    expected, articles = alone
    config = config_for(new_store("held"))
    with AnalysisAhead.start(
        config.database_url, config.ruleset, config.rules_version, limit=30
    ) as ahead:
        store(config, folder, ahead)
        wait_until(lambda: ahead.held == 30)
        time.sleep(0.5)
        assert ahead.held == 30, "it holds no more than its limit"
        with transaction(config.database_url) as session:  # the 30 it read, in its order
            queued = db.awaiting_after(session, config.rules_version, 0, 30)
        assert len(ahead.take(queued)) == 30
        wait_until(lambda: ahead.held == 30)  # the next 30, once those were taken
        outcome = detect_all(config, ahead)
    assert outcome.articles == articles  # the first 30 analysed again: taking records nothing
    assert ahead.used >= 60
    assert result(config.database_url) == expected


def test_a_process_that_died_is_only_missed(
    folder: Path, new_store: Callable[[str], str], alone: tuple[tuple[Any, ...], int]
) -> None:
    expected, articles = alone
    config = config_for(new_store("died"))
    with AnalysisAhead.start(config.database_url, config.ruleset, config.rules_version) as ahead:
        os.kill(ahead.pid, signal.SIGKILL)
        store(config, folder, ahead)
        outcome = detect_all(config, ahead)
    assert outcome.articles == articles
    assert ahead.used == 0
    assert result(config.database_url) == expected


def test_only_an_analysis_of_the_same_reading_is_taken(
    folder: Path, new_store: Callable[[str], str]
) -> None:
    config = config_for(new_store("reading"))
    with AnalysisAhead.start(config.database_url, config.ruleset, config.rules_version) as ahead:
        store(config, folder, ahead)
        with transaction(config.database_url) as session:
            queued = db.pending_detection(session, config.rules_version, 10_000)
        wait_until(lambda: ahead.held == len(queued))
        changed = [
            replace(queued[0], text=queued[0].text + " More."),
            replace(queued[1], title="Another title"),
            replace(queued[2], dated=not queued[2].dated),
        ]
        taken = ahead.take(changed + queued[3:])
    assert set(taken) == {item.id for item in queued[3:]}
    for item in queued[3:]:
        assert taken[item.id] == analyse_item(config.ruleset, item)


def wait_until(condition: Callable[[], bool], timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "the analysing process did not get there"
        time.sleep(0.02)


CHILD = """
import sys, time
from flows.stages.ahead import AnalysisAhead
from flows.context.config import load_run_config
from flows.context.settings import load_settings
config = load_run_config(load_settings(database_url=sys.argv[1], rules_dir=sys.argv[2]))
ahead = AnalysisAhead.start(config.database_url, config.ruleset, config.rules_version)
print(ahead.pid, flush=True)
time.sleep(600)
"""


def test_the_process_dies_with_the_replays(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    replay = subprocess.Popen(
        [sys.executable, "-c", CHILD, url, str(RULES)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert replay.stdout is not None
    pid = int(replay.stdout.readline())
    replay.kill()
    replay.wait()
    deadline = time.monotonic() + 10
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(pid), "the analysing process outlived the replay's"


def _alive(pid: int) -> bool:
    """Whether process `pid` runs (a zombie, whose parent is gone, does not: init reaps it)."""
    try:
        status = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return status != "Z"


readings = st.builds(
    db.QueuedArticle,
    id=st.integers(1, 2**62),
    source=st.just("replay"),
    guid=st.text(max_size=20),
    title=st.text(max_size=60),
    text=st.text(max_size=400),
    reference=st.one_of(st.none(), st.datetimes(timezones=st.timezones())),
    dated=st.booleans(),
    source_id=st.just(1),
    revision=st.just(0),
)


@given(readings, readings)
def test_readings_differ_in_their_digests_as_in_what_detection_reads(
    one: db.QueuedArticle, other: db.QueuedArticle
) -> None:
    # any text (lone surrogates, NULs, any date) has a digest; what detection reads of two
    # readings is the same exactly when their digests are
    read = (one.id, one.title, one.text, repr(one.reference), one.dated)
    read_other = (other.id, other.title, other.text, repr(other.reference), other.dated)
    assert (reading_digest(one) == reading_digest(other)) == (read == read_other)
    moved = replace(one, text=one.title + one.text, title="")
    assert (reading_digest(moved) == reading_digest(one)) == (one.title == "")


def test_a_replay_whose_process_cannot_start_goes_on_without_it(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refused(*args: Any, **kwargs: Any) -> None:
        raise OSError(11, "Resource temporarily unavailable")

    config = config_for(f"sqlite:///{tmp_path / 'store.db'}")
    spec = replay_source([str(folder)])
    chunks = adapters.plan_replay(spec, FILES_PER_CHUNK).chunks
    plan = fetch_plan(config.settings, [spec], ChunkBatches(chunks), conditional=False)
    monkeypatch.setattr(subprocess, "Popen", refused)
    with flows.runs.pipeline.analysis_ahead(config, plan) as ahead:
        assert ahead is None


@given(st.binary(min_size=16, max_size=16), st.one_of(st.just([]), st.text()))
def test_an_analysis_held_for_the_detect_stage_comes_back_as_it_was(
    digest: bytes, found: Found
) -> None:
    # nothing found is held as the digest alone; an error (any text, even empty) in full
    assert _unheld(_held(digest, found)) == (digest, found)
