"""A one-off `run` or `replay` with nothing to do answers without starting Prefect, and one with
anything left (a new or changed file or feed item, a due delivery) still runs its flow. A `run`
polls its due sources before it decides: unchanged sources alone start no Prefect.

Each idle command runs as a real process with a Prefect home of its own: Prefect's ephemeral API
creates its database there when it starts, so an empty home proves it never started. The runs
that must do work run in-process on the test Prefect API, where their flow runs are counted.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

import adapters
import flows.runs.replayplan
from flows.cli.app import app
from flows.context.runtime import transaction
from flows.runs.idle import NOTHING_TO_DO, NOTHING_TO_REPLAY
from flows.runs.oneoff import NOTHING_NEW
from tests.adapters.feedserver import FeedServer
from tests.adapters.monitorkit import Src, store, write_sources
from tests.conftest import SEEDS
from tests.secret_audit import record_output

pytestmark = pytest.mark.usefixtures("prefect_harness")

WATCHFLOOR = str(Path(sys.executable).with_name("watchfloor"))
# Two seed files are enough: the point is whether a flow runs, not what it finds.
SEED_FILES = sorted(SEEDS.glob("*.txt"))[:2]
# A subscriber nothing listens on: every delivery to it fails and stays pending.
DEAD_SUBSCRIBER = "json://127.0.0.1:9/hook"


def fresh_process(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    """The installed CLI in a process of its own whose Prefect home is `home` (made empty)."""
    home.mkdir(parents=True, exist_ok=True)
    environment = {**os.environ, "PREFECT_HOME": str(home)}
    environment.pop("PREFECT_API_URL", None)  # the test harness's API is not this process's
    result = subprocess.run(
        [WATCHFLOOR, *args], env=environment, capture_output=True, text=True, timeout=600
    )
    record_output(f"watchfloor {' '.join(args)}", result.stdout + result.stderr)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def in_process(*args: str) -> str:
    """The CLI in this process, on the test Prefect API; its output. `--db` and `--notify`
    reach the flow through the environment: it is given back as it was for later tests."""
    environment = dict(os.environ)
    try:
        result = CliRunner().invoke(app, list(args))
    finally:
        os.environ.clear()
        os.environ.update(environment)
    assert result.exit_code == 0, result.output
    return result.output


def flow_runs() -> int:
    """How many flow runs the test Prefect API holds."""
    from prefect.client.orchestration import get_client

    async def count() -> int:
        async with get_client() as client:
            return await client.count_flow_runs()

    return asyncio.run(count())


@pytest.fixture
def seeds(tmp_path: Path) -> Path:
    folder = tmp_path / "seeds"
    folder.mkdir()
    for path in SEED_FILES:
        shutil.copy(path, folder / path.name)
    return folder


@pytest.fixture
def no_subscribers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Alerts go to the terminal subscriber, which always delivers."""
    monkeypatch.setenv("WATCHFLOOR_NOTIFY_URLS", "[]")


@pytest.mark.usefixtures("no_subscribers")
def test_second_replay_of_a_stored_folder_starts_no_prefect(
    seeds: Path, sqlite_url: str, tmp_path: Path
) -> None:
    first = in_process("replay", str(seeds), "--db", sqlite_url)
    assert NOTHING_TO_REPLAY not in first
    assert "2 articles read (2 new)" in first

    home = tmp_path / "idle-prefect-home"
    second = fresh_process("replay", str(seeds), "--db", sqlite_url, home=home)
    assert NOTHING_TO_REPLAY in second.stdout.replace("\n", " ")
    assert "2 articles read (0 new)" in second.stdout  # the report still lists what was read
    assert list(home.iterdir()) == [], "Prefect started: its home is not empty"

    as_json = fresh_process("replay", str(seeds), "--db", sqlite_url, "--json", home=home)
    assert NOTHING_TO_REPLAY in as_json.stderr.replace("\n", " ")
    assert '"articles": 2' in as_json.stdout
    assert list(home.iterdir()) == []


@pytest.mark.usefixtures("no_subscribers")
def test_a_replay_that_runs_its_flow_reads_the_files_dates_once(
    seeds: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the command plans the replay (its chunks, in the files' date order) to see whether there
    # is anything to do, and hands the plan to its flow, which would otherwise read it again
    monkeypatch.setattr(flows.runs.replayplan, "REPLAY_CHUNK_FILES", 1)
    plans: list[int] = []
    plan_replay = adapters.plan_replay

    def counted(*args: Any, **kwargs: Any) -> adapters.ReplayPlan:
        plan = plan_replay(*args, **kwargs)
        plans.append(len(plan.chunks))
        return plan

    monkeypatch.setattr(adapters, "plan_replay", counted)
    before = flow_runs()
    output = in_process("replay", str(seeds), "--db", sqlite_url)
    assert "2 articles read (2 new)" in output
    assert flow_runs() == before + 1
    assert plans == [2], "one plan, of one file a chunk"


@pytest.mark.usefixtures("no_subscribers")
def test_replay_of_a_changed_file_runs_the_flow(seeds: Path, sqlite_url: str) -> None:
    in_process("replay", str(seeds), "--db", sqlite_url)
    edited = SEED_FILES[0]
    (seeds / edited.name).write_text(
        edited.read_text(encoding="utf-8") + "\nA line added later.\n", encoding="utf-8"
    )
    before = flow_runs()
    again = in_process("replay", str(seeds), "--db", sqlite_url)
    assert NOTHING_TO_REPLAY not in again
    assert "2 articles read (1 new)" in again
    assert flow_runs() == before + 1


def test_replay_with_a_due_delivery_runs_the_flow(seeds: Path, sqlite_url: str) -> None:
    """Nothing stored is left unprocessed: a delivery due again makes the replay run; one still
    waiting out its backoff is no work yet."""
    in_process("replay", str(seeds), "--db", sqlite_url, "--notify", DEAD_SUBSCRIBER)
    before = flow_runs()
    waiting = in_process("replay", str(seeds), "--db", sqlite_url, "--notify", DEAD_SUBSCRIBER)
    assert NOTHING_TO_REPLAY in waiting.replace("\n", " ")
    assert flow_runs() == before
    backoff_passes(sqlite_url)
    again = in_process("replay", str(seeds), "--db", sqlite_url, "--notify", DEAD_SUBSCRIBER)
    assert NOTHING_TO_REPLAY not in again.replace("\n", " ")
    assert flow_runs() == before + 1


def backoff_passes(url: str) -> None:
    """Every pending delivery's retry comes due (as if its backoff had passed)."""
    _retry_in(url, timedelta(seconds=-1))


def backoff_holds(url: str) -> None:
    """Every pending delivery's retry waits another hour: the first backoff is 60 s, which a
    loaded machine can spend between two runs."""
    _retry_in(url, timedelta(hours=1))


def _retry_in(url: str, delay: timedelta) -> None:
    with transaction(url) as session:
        session.execute(
            sa.text("UPDATE deliveries SET next_attempt_at = :when"),
            {"when": datetime.now(UTC) + delay},
        )


@pytest.fixture(scope="module")
def server() -> FeedServer:
    feeds = FeedServer().start()
    yield feeds
    feeds.close()


@pytest.mark.usefixtures("no_subscribers")
def test_run_with_no_source_due_starts_no_prefect(
    server: FeedServer, sqlite_url: str, tmp_path: Path
) -> None:
    sources = write_sources(
        tmp_path / "sources.yaml", server, [Src("Peninsula Desk", "/feed/rss2_korea.xml")]
    )
    first = in_process("run", "--sources", str(sources), "--db", sqlite_url)
    assert NOTHING_TO_DO not in first

    home = tmp_path / "idle-prefect-home"
    second = fresh_process("run", "--sources", str(sources), "--db", sqlite_url, home=home)
    assert NOTHING_TO_DO in second.stdout.replace("\n", " ")
    assert list(home.iterdir()) == [], "Prefect started: its home is not empty"

    # --all polls the source again, before Prefect: unchanged (304), so Prefect never starts.
    server.reset_counters()
    forced = fresh_process(
        "run", "--sources", str(sources), "--db", sqlite_url, "--all", "--json", home=home
    )
    assert NOTHING_NEW in forced.stderr.replace("\n", " ")
    [line] = json.loads(forced.stdout)["sources"]
    assert (line["name"], line["status"], line["http_status"]) == (
        "Peninsula Desk",
        "not_modified",
        304,
    )
    assert server.statuses == [("/feed/rss2_korea.xml", 304)]
    assert list(home.iterdir()) == [], "Prefect started: its home is not empty"


def rss(*titles: str) -> bytes:
    """A feed of one item per title (its guid), each published now (the newest first)."""
    now = datetime.now(UTC)
    items = "".join(
        f"<item><title>{title}</title><guid isPermaLink='false'>{title}</guid>"
        f"<pubDate>{format_datetime(now - timedelta(minutes=number))}</pubDate>"
        f"<description>{title}.</description></item>"
        for number, title in enumerate(titles)
    )
    return f"<rss version='2.0'><channel><title>News</title>{items}</channel></rss>".encode()


@pytest.mark.usefixtures("no_subscribers")
def test_a_run_whose_poll_finds_news_runs_the_flow_on_it(
    server: FeedServer, sqlite_url: str, tmp_path: Path
) -> None:
    server.files["news.xml"] = rss("City council approves the new budget")
    sources = write_sources(
        tmp_path / "sources.yaml",
        server,
        [Src("Peninsula Desk", "/feed/rss2_korea.xml"), Src("News Desk", "/feed/news.xml")],
    )
    in_process("run", "--sources", str(sources), "--db", sqlite_url)
    server.files["news.xml"] = rss(
        "North Korea fires a ballistic missile into the East Sea",
        "City council approves the new budget",
    )
    before = flow_runs()
    again = json.loads(
        in_process("run", "--sources", str(sources), "--db", sqlite_url, "--all", "--json")
    )
    assert flow_runs() == before + 1, "the news started the flow"
    lines = {line["name"]: line for line in again["sources"]}
    assert lines["Peninsula Desk"]["status"] == "not_modified", "polled once, before Prefect"
    assert (lines["News Desk"]["status"], lines["News Desk"]["new_items"]) == ("ok", 1)
    assert again["detected"] == 1, "the flow detected what the poll stored"
    [launch] = [d for d in again["developments"] if d["category"] == "missile_launch"]
    assert launch["status"] == "occurred"


def test_a_due_retry_starts_the_flow_and_one_waiting_out_its_backoff_does_not(
    server: FeedServer, seeds: Path, sqlite_url: str, tmp_path: Path
) -> None:
    sources = write_sources(
        tmp_path / "sources.yaml", server, [Src("Peninsula Desk", "/feed/rss2_korea.xml")]
    )
    dead = ("--notify", DEAD_SUBSCRIBER)
    in_process("run", "--sources", str(sources), "--db", sqlite_url, *dead)
    in_process("replay", str(seeds), "--db", sqlite_url, *dead)  # alerts whose deliveries fail
    attempts = delivery_attempts(sqlite_url)
    assert attempts and set(attempts) == {1}

    backoff_holds(sqlite_url)
    home = tmp_path / "idle-prefect-home"
    waiting = fresh_process(
        "run", "--sources", str(sources), "--db", sqlite_url, "--all", *dead, home=home
    )
    assert NOTHING_NEW in waiting.stdout.replace("\n", " "), "retries wait out their backoff"
    assert list(home.iterdir()) == [], "Prefect started: its home is not empty"
    assert delivery_attempts(sqlite_url) == attempts

    backoff_passes(sqlite_url)
    before = flow_runs()
    retried = in_process("run", "--sources", str(sources), "--db", sqlite_url, "--all", *dead)
    assert NOTHING_NEW not in retried.replace("\n", " ")
    assert flow_runs() == before + 1
    assert set(delivery_attempts(sqlite_url)) == {2}, "every due retry was tried again"


def delivery_attempts(url: str) -> list[int]:
    """Each delivery's attempts so far."""
    with store(url) as session:
        return list(session.execute(sa.text("SELECT attempts FROM deliveries")).scalars())
