"""Kill -9 at any moment, rerun: the result equals a clean run's.

Real processes: `watchfloor replay` over ~475 real article files (the labelled corpus, each
text published on two dates, plus the seeds) into a real store, alerting a real webhook
receiver on 127.0.0.1 that answers slowly enough for sending to take a while. A run is killed
with SIGKILL (its whole process group, Prefect's API server included, as when a container or
machine dies) at a moment read off the store: right after the store committed, during
detection, between detection and sending, at the first sent alert, halfway through sending.
Then the same command runs again to the end. Every time, the store holds exactly the clean
run's developments, nothing awaits detection or sending, and the receiver got every alert of
the clean run, at most one of them twice per kill (the documented window: a send whose record
was not written).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests.conftest import ROOT, SEEDS
from tests.notify.receivers import HttpReceiver

CORPUS = ROOT / "tests" / "data" / "corpus" / "articles.jsonl"
DATES = ("2026-01-10", "2026-01-20")
HOOK_DELAY_S = 0.05  # per message: sending ~100 alerts takes seconds, time enough to be killed
RUN_LIMIT_S = 600

Probe = Callable[[dict[str, int]], bool]
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
    """A webhook receiver on 127.0.0.1; each message takes a moment, so a run can be killed
    while it sends."""
    receiver = HttpReceiver()
    receiver.respond(delay=HOOK_DELAY_S)
    yield receiver
    receiver.close()


def hook_url(receiver: HttpReceiver) -> str:
    return f"json://127.0.0.1:{receiver.port}/hook"


# Payload fields that name a store's own rows or the moment an alert was written: they differ
# between two stores that hold the same alerts.
STORE_SPECIFIC = ("alert_id", "development_id", "created_at")


def take(receiver: HttpReceiver) -> Counter[str]:
    """The JSON bodies received since the last take, normalised (without the store-specific
    fields), with their counts."""
    bodies = [r.json() for r in receiver.take()]
    for body in bodies:
        for key in STORE_SPECIFIC:
            body.pop(key, None)
    return Counter(json.dumps(body, sort_keys=True) for body in bodies)


@pytest.fixture(scope="module")
def articles(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The corpus as seed files, each text on three dates, and the seeds."""
    folder = tmp_path_factory.mktemp("articles")
    for line in CORPUS.read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        title = item["title"] or item["text"].split("\n", 1)[0][:120]
        for n, day in enumerate(DATES):
            text = f"date: {day}\n{title}\n\n{item['text']}\n"
            (folder / f"{item['id']}-{n}.txt").write_text(text, encoding="utf-8")
    for seed in sorted(SEEDS.glob("*.txt")):
        (folder / seed.name).write_bytes(seed.read_bytes())
    return folder


def counts(engine: sa.Engine) -> dict[str, int]:
    """What the store holds now (zeros before the schema exists)."""
    queries = {
        "articles": "SELECT count(*) FROM articles",
        "detected": "SELECT count(*) FROM articles WHERE detect_state <> 'pending'",
        "pending": "SELECT count(*) FROM articles WHERE detect_state = 'pending'",
        "alerts": "SELECT count(*) FROM alerts",
        "sent": "SELECT count(*) FROM deliveries WHERE state = 'sent'",
        "unsent": "SELECT count(*) FROM deliveries WHERE state <> 'sent'",
    }
    try:
        with engine.connect() as connection:
            return {k: int(connection.scalar(sa.text(q)) or 0) for k, q in queries.items()}
    except (sa.exc.OperationalError, sa.exc.ProgrammingError):
        return dict.fromkeys(queries, 0)


def developments(engine: sa.Engine) -> list[tuple[Any, ...]]:
    """Every development with its evidence, comparable across stores (no ids)."""
    query = sa.text(
        "SELECT d.category, d.status, d.background, d.title, d.event_date, s.name, a.guid "
        "FROM developments d JOIN evidence e ON e.development_id = d.id "
        "JOIN articles a ON a.id = e.article_id JOIN sources s ON s.id = a.source_id"
    )
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    grouped: dict[tuple[Any, ...], set[tuple[str, str]]] = {}
    for category, status, background, title, event_date, source, guid in rows:
        key = (category, status, bool(background), title, str(event_date))
        grouped.setdefault(key, set()).add((source, guid))
    return sorted((*key, tuple(sorted(ev))) for key, ev in grouped.items())


def start_replay(tmp_path: Path, url: str, hook_url: str, folder: Path, n: int) -> Any:
    home = tmp_path / f"run{n}"
    home.mkdir()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("WATCHFLOOR_")},
        "PREFECT_HOME": str(home / ".prefect"),
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "240",
        "WATCHFLOOR_RULES_DIR": str(ROOT / "rules"),
    }
    cmd = [
        sys.executable,
        "-m",
        "flows.cli",
        "replay",
        str(folder),
        "--db",
        url,
        "--notify",
        hook_url,
        "--json",
    ]
    # Files, not pipes: Prefect's server child inherits the descriptors. Its own process group,
    # so a kill takes the server down with it, as a dying container would.
    out = (home / "out").open("wb")
    err = (home / "err").open("wb")
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=err, start_new_session=True)
    proc.home = home  # type: ignore[attr-defined]
    return proc


def kill_group(proc: Any) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)


def run_to_end(proc: Any) -> None:
    try:
        proc.wait(timeout=RUN_LIMIT_S)
    finally:
        kill_group(proc)  # the group: anything left behind
    assert proc.returncode == 0, (proc.home / "err").read_text()[-3000:]


def kill_when(proc: Any, engine: sa.Engine, probe: Probe, moment: str) -> dict[str, int]:
    """SIGKILL the run's group as soon as `probe` holds for the store; the counts then."""
    deadline = time.monotonic() + RUN_LIMIT_S
    while time.monotonic() < deadline:
        seen = counts(engine)
        if probe(seen):
            kill_group(proc)
            return seen
        if proc.poll() is not None:
            pytest.fail(f"the run ended before the moment {moment!r}: {seen}")
        time.sleep(0.01)
    kill_group(proc)
    pytest.fail(f"the moment {moment!r} never came")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def new_store(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[str], str]:
    """Makes empty stores on the backend: name -> URL."""
    if request.param == "sqlite":
        return lambda name: f"sqlite:///{tmp_path / (name + '.db')}"
    from tests.pgserver import create_database

    server = request.getfixturevalue("pg_server")
    return lambda name: create_database(server, f"kill_{name}_{os.getpid()}")


@pytest.mark.slow
@pytest.mark.timeout(2400)  # eleven real replays, each starting its own Prefect API
def test_kill_9_anywhere_then_rerun_equals_a_clean_run(
    new_store: Callable[[str], str], hooks: HttpReceiver, articles: Path, tmp_path: Path
) -> None:
    clean_url = new_store("clean")
    run_to_end(start_replay(tmp_path, clean_url, hook_url(hooks), articles, 0))
    clean_engine = sa.create_engine(clean_url)
    clean = developments(clean_engine)
    clean_alerts = take(hooks)
    clean_counts = counts(clean_engine)
    clean_engine.dispose()
    assert clean_counts["alerts"] == sum(clean_alerts.values()) > 20
    assert clean_counts["pending"] == clean_counts["unsent"] == 0
    assert sum(clean_alerts.values()) == len(clean_alerts)  # a clean run sends each once

    results = {}
    for n, (moment, probe) in enumerate(MOMENTS.items(), start=1):
        url = new_store(moment.replace("-", "_"))
        engine = sa.create_engine(url)
        proc = start_replay(tmp_path, url, hook_url(hooks), articles, n)
        at_kill = kill_when(proc, engine, probe, moment)
        run_to_end(start_replay(tmp_path, url, hook_url(hooks), articles, n + 100))
        received = take(hooks)
        after = counts(engine)
        assert developments(engine) == clean, moment
        engine.dispose()
        assert (after["pending"], after["unsent"], after["alerts"]) == (
            0,
            0,
            clean_counts["alerts"],
        ), moment
        assert set(received) == set(clean_alerts), moment  # every alert, no other
        repeats = sum(received.values()) - len(received)
        assert repeats <= 1, f"{moment}: {repeats} alerts sent twice"
        results[moment] = (at_kill, repeats)
    print(f"\nkill matrix: {len(clean_alerts)} alerts, {clean_counts['articles']} articles")
    for moment, (at_kill, repeats) in results.items():
        print(f"  {moment}: killed at {at_kill}; after rerun: equal, {repeats} repeated")
