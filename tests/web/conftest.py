"""One seed replay per test session, made by the real replay flow with a failing Apprise target;
one headless Chromium per browser test module. The webhook receiver (`http`) is the
shared one of tests/notify/fixtures.py."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser

from flows.replay import replay_flow
from tests.conftest import store_env
from tests.web.browserkit import launched_chromium
from tests.web.webkit import APPRISE_URL


@pytest.fixture(scope="session")
def seed_store(prefect_harness: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a SQLite store holding the seeds' replay; tests must not change it (copy it)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('seedstore') / 'seeds.db'}"
    before = os.environ.get("WATCHFLOOR_NOTIFY_URLS")
    os.environ["WATCHFLOOR_NOTIFY_URLS"] = APPRISE_URL
    try:
        with store_env(url):
            report = replay_flow()
    finally:
        if before is None:
            os.environ.pop("WATCHFLOOR_NOTIFY_URLS", None)
        else:
            os.environ["WATCHFLOOR_NOTIFY_URLS"] = before
    assert len(report.developments) == 4
    yield url


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    """Debian's headless Chromium under Playwright, for the browser tests of one module.

    Not for the whole session: while Playwright's sync API is open, its event loop runs in the
    test process, and a Prefect flow called there returns a coroutine instead of running (under
    pytest-xdist, other tests run after the browser tests in the same worker)."""
    with launched_chromium() as browser:
        yield browser
