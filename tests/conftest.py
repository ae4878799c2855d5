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
os.environ["DO_NOT_TRACK"] = "1"
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ.pop("PREFECT_API_URL", None)
for _name in list(os.environ):
    if _name.startswith("WATCHFLOOR_"):
        del os.environ[_name]
# Feeds in tests are served on loopback, which fetches refuse unless allowed; in the environment,
# so the CLI and flow processes that tests start inherit it.
os.environ["WATCHFLOOR_FETCH_ALLOW_NETWORKS"] = "127.0.0.1"

import pytest  # noqa: E402

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


# Where the session's Prefect test harness kept a copy of its database as its API created it.
_USED_PREFECT_HOME = pytest.StashKey[Path]()


@pytest.fixture(scope="session")
def prefect_harness(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[None]:
    """One temporary Prefect API for every flow test (starting one costs seconds). Its database
    is copied as soon as the API has created it, before any flow runs: `used_prefect_home`."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        home = home_with_harness_database(tmp_path_factory.mktemp("prefect-home"))
        request.config.stash[_USED_PREFECT_HOME] = home
        yield


def home_with_harness_database(folder: Path) -> Path:
    """`folder`, made a Prefect home whose database is a copy of the running harness API's: as
    a temporary API created it (migrated, Prefect's block types registered). SQLite's backup
    copies it whole while the API has it open."""
    import sqlite3

    from prefect.settings import PREFECT_SERVER_DATABASE_CONNECTION_URL

    url = str(PREFECT_SERVER_DATABASE_CONNECTION_URL.value())
    source = sqlite3.connect(f"file:{url.split(':///', 1)[1]}?mode=ro", uri=True)
    target = sqlite3.connect(folder / "prefect.db")
    try:
        source.backup(target)
    finally:
        target.close()
        source.close()
    return folder


@pytest.fixture(scope="session")
def prefect_api_url(prefect_harness: None) -> str:
    """The session's Prefect API, for CLI processes whose test is not about the temporary API
    a process starts for itself: with PREFECT_API_URL set to it, a process spares that start."""
    from prefect.settings import PREFECT_API_URL

    return str(PREFECT_API_URL.value())


@pytest.fixture(scope="session")
def used_prefect_home(request: pytest.FixtureRequest, prefect_harness: None) -> Path:
    """A Prefect home in which a temporary API already created its database, and no flow ran
    (for copies; never changed): a run given a copy starts its own API as on a machine where
    Prefect ran before, without the seconds (~4 CPU-s) of creating that database."""
    return request.config.stash[_USED_PREFECT_HOME]


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
