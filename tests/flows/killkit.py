"""Kill -9 a run at a moment read off its store, and compare the store and the alerts after a
rerun with a clean run's: shared by the replay's and the one-off run's kill matrices."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests.clikit import start_forked
from tests.conftest import ROOT
from tests.notify.receivers import HttpReceiver

CORPUS = ROOT / "tests" / "data" / "corpus" / "articles.jsonl"
HOOK_DELAY_S = 0.05  # per message: sending ~100 alerts takes seconds, time enough to be killed
RUN_LIMIT_S = 600

Probe = Callable[[dict[str, int]], bool]


@contextlib.contextmanager
def hooks_receiver() -> Iterator[HttpReceiver]:
    """A webhook receiver on 127.0.0.1, answering at once (see `slowly`)."""
    receiver = HttpReceiver()
    try:
        yield receiver
    finally:
        receiver.close()


@contextlib.contextmanager
def slowly(receiver: HttpReceiver) -> Iterator[None]:
    """Inside the block each message takes HOOK_DELAY_S, so a run can be killed while it sends;
    runs that are not killed send outside it, without the wait."""
    receiver.respond(delay=HOOK_DELAY_S)
    try:
        yield
    finally:
        receiver.respond()


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


COUNTS = {
    "articles": "SELECT count(*) FROM articles",
    "detected": "SELECT count(*) FROM detection_queue WHERE state <> 'pending'",
    "pending": "SELECT count(*) FROM detection_queue WHERE state = 'pending'",
    # Stored but never queued: detection would never see it.
    "unqueued": "SELECT count(*) FROM articles a "
    "WHERE NOT EXISTS (SELECT 1 FROM detection_queue q WHERE q.article_id = a.id)",
    "alerts": "SELECT count(*) FROM alerts",
    "sent": "SELECT count(*) FROM deliveries WHERE state = 'sent'",
    "unsent": "SELECT count(*) FROM deliveries WHERE state <> 'sent'",
}
# Every count in one statement: one snapshot of the store, and one round trip a poll (kill
# moments are polled every 10 ms: six statements cost 1.3 ms of client and PostgreSQL CPU).
ALL_COUNTS = sa.text("SELECT " + ", ".join(f"({q}) AS {k}" for k, q in COUNTS.items()))


def counts(engine: sa.Engine) -> dict[str, int]:
    """What the store holds now (zeros before the schema exists)."""
    try:
        with engine.connect() as connection:
            row = connection.execute(ALL_COUNTS).one()
    except (sa.exc.OperationalError, sa.exc.ProgrammingError):
        return dict.fromkeys(COUNTS, 0)
    return {k: int(v or 0) for k, v in row._mapping.items()}


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


@dataclass(frozen=True)
class CleanRun:
    """What a run that was not killed left: its store's developments and counts, and the
    alerts the receiver got."""

    developments: list[tuple[Any, ...]]
    counts: dict[str, int]
    alerts: Counter[str]


def clean_run(engine: sa.Engine, receiver: HttpReceiver) -> CleanRun:
    """What the clean run left in the store at `engine` and sent to `receiver`; checks that
    it left nothing awaiting detection or sending, and sent each alert once."""
    clean = CleanRun(developments(engine), counts(engine), take(receiver))
    assert clean.counts["alerts"] == sum(clean.alerts.values()), clean.counts
    assert clean.counts["pending"] == clean.counts["unsent"] == clean.counts["unqueued"] == 0, (
        clean.counts
    )
    assert sum(clean.alerts.values()) == len(clean.alerts), "a clean run sends each once"
    return clean


def repeats_after_rerun(
    engine: sa.Engine, receiver: HttpReceiver, clean: CleanRun, moment: str
) -> int:
    """After a kill at `moment` and a rerun: checks that the store at `engine` holds exactly
    the clean run's developments and alerts with nothing awaiting detection or sending, and
    that `receiver` got every alert of the clean run and no other; returns how many it got
    twice (at most one: the documented window, a send whose record was not written)."""
    received = take(receiver)
    after = counts(engine)
    assert developments(engine) == clean.developments, moment
    expected = (0, 0, 0, clean.counts["alerts"])
    got = (after["pending"], after["unsent"], after["unqueued"], after["alerts"])
    assert got == expected, (moment, after)
    assert set(received) == set(clean.alerts), moment  # every alert, no other
    repeats = sum(received.values()) - len(received)
    assert repeats <= 1, f"{moment}: {repeats} alerts sent twice"
    return repeats


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


def start_watchfloor(
    tmp_path: Path,
    n: int,
    args: list[str],
    env: Mapping[str, str] | None = None,
    api_url: str | None = None,
    prefect_home: Path | None = None,
) -> Any:
    """`watchfloor ARGS` in a process group of its own, with a Prefect home of its own (a copy
    of `prefect_home` when given) and the rules of the checkout; `env` adds settings. Without
    `api_url` the run starts a temporary Prefect API of its own, in its group, so a kill takes
    it down too; with it, the run uses that API (the session's: a run that is not killed is
    spared the seconds of starting one)."""
    home = tmp_path / f"run{n}"
    home.mkdir()
    if prefect_home is not None:
        shutil.copytree(prefect_home, home / ".prefect")
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith("WATCHFLOOR_")},
        "PREFECT_HOME": str(home / ".prefect"),
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "240",
        "WATCHFLOOR_RULES_DIR": str(ROOT / "rules"),
        **(env or {}),
    }
    environment.pop("PREFECT_API_URL", None)  # a test harness's API is not this process's
    if api_url is not None:
        environment["PREFECT_API_URL"] = api_url
    # Files, not pipes: Prefect's server child inherits the descriptors. Its own process group,
    # so a kill takes the server down with it, as a dying container would.
    with (home / "out").open("wb") as out, (home / "err").open("wb") as err:
        proc = start_forked(
            args, cwd=ROOT, env=environment, stdout=out, stderr=err, new_session=True
        )
    proc.home = home  # type: ignore[attr-defined]
    return proc
