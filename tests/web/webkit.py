"""The web console under test: the real app served by uvicorn on 127.0.0.1 in a thread, over a
store made by a real seed replay."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import httpx
import uvicorn
from sqlalchemy import update

from db import create_engine_for
from db.models import sources
from tests.notify.receivers import free_port
from web import WebConfig, create_app

# A dead port: the Apprise target's deliveries fail, and the secret in its URL is on record
# (tests/secret_audit.py searches logs, outputs and stores for its WFSECRET marker).
APPRISE_SECRET = "WFSECRET-apprise-token-42"
APPRISE_URL = f"json://127.0.0.1:9/hook?token={APPRISE_SECRET}"
TOKEN = "correct-horse-battery-staple"


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
    engine = create_engine_for(url)
    with engine.begin() as conn:
        conn.execute(update(sources).values(last_fetch_at=at, consecutive_failures=failures))
    engine.dispose()


def config_for(url: str, *, token: str | None = None, interval_s: float = 600) -> WebConfig:
    return WebConfig(database_url=url, token=token, cycle_interval_s=interval_s)
