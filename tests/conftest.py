"""Test-wide set-up: Prefect state in a throwaway folder, no telemetry, no network."""

from __future__ import annotations

import atexit
import fcntl
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
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


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    """One temporary Prefect API for every flow test (starting one costs seconds)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture(scope="session")
def prefect_api_url(prefect_harness: None) -> str:
    """The session's Prefect API, for CLI processes whose test is not about the temporary API
    a process starts for itself: with PREFECT_API_URL set to it, a process spares that start."""
    from prefect.settings import PREFECT_API_URL

    return str(PREFECT_API_URL.value())


def made_once_per_run(
    factory: pytest.TempPathFactory, name: str, make: Callable[[Path], Path]
) -> Path:
    """The folder `name`, filled by `make` once for the whole run. In one process, a folder of
    the session; under pytest-xdist, one folder of the run that every worker shares (beside
    the workers' own), filled by the first worker to ask while the others wait on a lock: a
    resource that costs seconds of CPU to make is then made once, not once per worker."""
    if "PYTEST_XDIST_WORKER" not in os.environ:
        return make(factory.mktemp(name))
    run = factory.getbasetemp().parent  # the run's folder, parent of every worker's
    folder, done = run / name, run / f"{name}.done"
    with (run / f"{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if not done.exists():  # not made yet, or a worker failed making it: (re)made here
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
            make(folder)
            done.touch()
    return folder


@pytest.fixture(scope="session")
def used_prefect_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Prefect home in which a temporary API already created its database (for copies; never
    changed: made once per run, see `made_once_per_run`)."""
    from tests.flows.killkit import prefect_home_used_before

    return made_once_per_run(tmp_path_factory, "prefect-home", prefect_home_used_before)


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
