"""The web console under test: the real app served by uvicorn on 127.0.0.1 in a thread, over a
store made by a real seed replay."""

from __future__ import annotations

import re
import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from sqlalchemy import update

from db.models import sources
from flows.replay import replay_flow
from tests.conftest import SEEDS, store_env
from tests.notify.receivers import HttpReceiver, free_port
from tests.storekit import engine_at
from web import WebConfig, create_app

# A dead port: the Apprise target's deliveries fail, and the secret in its URL is on record
# (tests/secret_audit.py searches logs, outputs and stores for its WFSECRET marker).
APPRISE_SECRET = "WFSECRET-apprise-token-42"
APPRISE_URL = f"json://127.0.0.1:9/hook?token={APPRISE_SECRET}"
TOKEN = "correct-horse-battery-staple"
BEARER = {"Authorization": f"Bearer {TOKEN}"}
# The ministerial meeting is announced in seeds 000, 001 and 004 and held in 002 and 003:
# replayed alone, the held ones move it to occurred and alert that (tests/flows: 2 meeting
# alerts); they also report the exercise, which alerts as planned.
ANNOUNCED = ("000", "001", "004")
HELD = ("002", "003")


@contextmanager
def serving(config: WebConfig) -> Iterator[httpx.Client]:
    """The console on a free port until the block ends; a client whose base URL is it."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(config), host="127.0.0.1", port=port, log_level="warning", access_log=False
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the console did not start")
        time.sleep(0.02)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            yield client
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def sqlite_copy(url: str, folder: Path) -> str:
    """A copy of the SQLite store at `url` in `folder`: a test may change it freely."""
    source = Path(url.removeprefix("sqlite:///"))
    target = folder / "copy.db"
    shutil.copyfile(source, target)
    return f"sqlite:///{target}"


def set_last_fetch(url: str, at: datetime | None, failures: int = 0) -> None:
    """Every source of the store at `url` last fetched `at`, with `failures` failures in a row."""
    with engine_at(url) as engine, engine.begin() as conn:
        conn.execute(update(sources).values(last_fetch_at=at, consecutive_failures=failures))


def copy_fetched_ago(url: str, folder: Path, age: timedelta | None, failures: int = 0) -> str:
    """A copy of the store at `url` in `folder` (see sqlite_copy) whose sources were last fetched
    `age` ago (never: None), with `failures` failures in a row; the copy's URL."""
    copy = sqlite_copy(url, folder)
    set_last_fetch(copy, None if age is None else datetime.now(UTC) - age, failures)
    return copy


def config_for(url: str, *, token: str | None = None, interval_s: float = 600) -> WebConfig:
    return WebConfig(database_url=url, token=token, cycle_interval_s=interval_s)


def replay_seed_part(
    url: str, folder: Path, names: tuple[str, ...], subscribers: str, receiver: HttpReceiver
) -> list[dict[str, Any]]:
    """A real replay into the store at `url` of the seed files whose names start with `names`
    (copied to a new `folder`), sending to the Apprise config file `subscribers`; answers the
    JSON payloads `receiver` got from it."""
    folder.mkdir()
    for path in sorted(SEEDS.iterdir()):
        if path.name.startswith(names):
            shutil.copy(path, folder / path.name)
    receiver.take()
    with store_env(url):
        replay_flow(paths=[str(folder)], apprise_config=subscribers)
    return [request.json() for request in receiver.take()]


def csrf_of(page: str) -> str:
    """The CSRF field of a page an analyst logged in to."""
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', page)
    assert found, "the page carries no CSRF field"
    return found.group(1)


def development_ids(client: httpx.Client, **params: str) -> dict[str, int]:
    """Category -> id of the developments /api/developments lists with `params`."""
    answer = client.get("/api/developments", params=params, headers=BEARER)
    assert answer.status_code == 200
    return {row["category"]: row["id"] for row in answer.json()}
