"""Test-wide set-up: Prefect state in a throwaway folder, no telemetry, no network."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# Prefect reads its settings at import: set them before anything imports it.
_PREFECT_HOME = tempfile.mkdtemp(prefix="watchfloor-prefect-")
os.environ["PREFECT_HOME"] = _PREFECT_HOME
# Removed when the process exits, after the session (and its secrets audit) is over.
atexit.register(shutil.rmtree, _PREFECT_HOME, ignore_errors=True)
# Where the session's Prefect API database template is kept (tests/prefectdb.py's
# TEMPLATE_FOLDER): made by the outermost process, inherited by the xdist workers and the pytest
# sessions that tests start.
if not os.environ.get("TESTS_PREFECT_TEMPLATE_DIR"):
    os.environ["TESTS_PREFECT_TEMPLATE_DIR"] = tempfile.mkdtemp(prefix="watchfloor-template-")
    atexit.register(shutil.rmtree, os.environ["TESTS_PREFECT_TEMPLATE_DIR"], ignore_errors=True)
os.environ["DO_NOT_TRACK"] = "1"
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ.pop("PREFECT_API_URL", None)
for _name in list(os.environ):
    if _name.startswith("WATCHFLOOR_"):
        del os.environ[_name]
# Feeds in tests are served on loopback, which fetches refuse unless allowed; in the environment,
# so the CLI and flow processes that tests start inherit it.
os.environ["WATCHFLOOR_FETCH_ALLOW_NETWORKS"] = "127.0.0.1"
# Compiled rules are kept in the session's own folder (flows.context.rulecache), not the user's:
# made by the outermost process and shared by the workers and the processes tests start.
if not os.environ.get("TESTS_RULES_CACHE_DIR"):
    os.environ["TESTS_RULES_CACHE_DIR"] = tempfile.mkdtemp(prefix="watchfloor-cache-")
    atexit.register(shutil.rmtree, os.environ["TESTS_RULES_CACHE_DIR"], ignore_errors=True)
os.environ["WATCHFLOOR_CACHE_DIR"] = os.environ["TESTS_RULES_CACHE_DIR"]

import pytest  # noqa: E402


def _websockets_draw_from_their_own_generator() -> None:
    """Hypothesis checks that the global `random` generator is left alone while it draws an
    example, and cannot tell threads apart. Prefect's events client keeps a websocket open in a
    thread of its own for as long as a test process lives, and `websockets` draws each keepalive
    ping's payload (and its reconnect backoff) from the global generator: a
    HypothesisDeprecationWarning then blamed whichever property test was drawing at that moment.
    Those two modules get a generator of their own; what they send is as random as before."""
    import random

    import websockets.asyncio.connection
    import websockets.client

    websockets.asyncio.connection.random = random.Random()
    websockets.client.random = random.Random()


_websockets_draw_from_their_own_generator()

pytest_plugins = [
    "tests.secret_audit",
    "tests.schedule",
    "tests.cputime",
    "tests.notify.fixtures",
    "tests.adapters.feedfixtures",
]

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
RULES = ROOT / "rules"
# The documented fields of a development in `--json` output and the web API.
DEVELOPMENT_KEYS = frozenset(
    {
        "id",
        "category",
        "status",
        "background",
        "title",
        "event_date",
        "place",
        "actors",
        "facts",
        "evidence",
        "regions",
        "dismissed",
        "merged_into",
    }
)


@pytest.hookimpl(wrapper=True)
def pytest_collection() -> Iterator[None]:
    """Collection (importing every test module, and with them Prefect, SQLAlchemy, pydantic)
    without cyclic garbage collection: its allocations set off full collections that walked
    every object imported so far, again and again, in each xdist worker; what collection
    imports stays loaded for the whole session anyway. Collection is back on, as it was, before
    the first test runs (nothing is frozen: a test sees the collector as without this)."""
    import gc

    collecting = gc.isenabled()
    gc.disable()
    try:
        return (yield)
    finally:
        if collecting:
            gc.enable()


@contextmanager
def store_env(url: str) -> Iterator[None]:
    """WATCHFLOOR_DATABASE_URL is `url` inside the block: flows read the store from settings,
    never from a flow parameter (Prefect stores parameters, and a URL may carry a password)."""
    before = os.environ.get("WATCHFLOOR_DATABASE_URL")
    os.environ["WATCHFLOOR_DATABASE_URL"] = url
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("WATCHFLOOR_DATABASE_URL", None)
        else:
            os.environ["WATCHFLOOR_DATABASE_URL"] = before


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    """One temporary Prefect API for every flow test of this process (starting one costs
    seconds), on a copy of the database that Prefect created for the session's first one
    (tests/prefectdb.py)."""
    from tests.prefectdb import TEMPLATE_FOLDER, session_api

    with session_api(Path(os.environ[TEMPLATE_FOLDER])):
        yield


@pytest.fixture(scope="session")
def prefect_api_url(prefect_harness: None) -> str:
    """The session's Prefect API, for CLI processes whose test is not about the temporary API
    a process starts for itself: with PREFECT_API_URL set to it, a process spares that start."""
    from prefect.settings import PREFECT_API_URL

    return str(PREFECT_API_URL.value())


@pytest.fixture(scope="session")
def used_prefect_home(prefect_harness: None, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Prefect home in which a temporary API already created its database, and no flow ran
    (for copies; never changed): a run given a copy starts its own API as on a machine where
    Prefect ran before, without the seconds (~4 CPU-s) of creating that database."""
    from tests.prefectdb import TEMPLATE_FOLDER, TEMPLATE_NAME

    home = tmp_path_factory.mktemp("prefect-home")
    template = Path(os.environ[TEMPLATE_FOLDER]) / TEMPLATE_NAME
    shutil.copyfile(template, home / "prefect.db")
    return home


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of the session's throwaway PostgreSQL 15 server (its `postgres` database).

    Started from the machine's binaries (initdb, pg_ctl); missing binaries FAIL the tests with
    install instructions rather than skipping them.
    """
    from tests.pgserver import PostgresUnavailableError, start_postgres

    try:
        url, stop = start_postgres(tmp_path_factory.mktemp("pg"))
    except PostgresUnavailableError as exc:
        pytest.fail(f"PostgreSQL tests need a PostgreSQL server:\n{exc}", pytrace=False)
    try:
        yield url
    finally:
        stop()


@pytest.fixture
def pg_url(pg_server: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database (dropped after the test)."""
    from tests.pgserver import create_database, drop_database

    name = f"wf_{uuid.uuid4().hex[:12]}"
    url = create_database(pg_server, name)
    try:
        yield url
    finally:
        drop_database(pg_server, name)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A fresh SQLite file database."""
    return f"sqlite:///{tmp_path / 'watchfloor.db'}"
