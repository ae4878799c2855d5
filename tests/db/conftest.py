"""Fixtures for the storage tests: real SQLite files and a real throwaway PostgreSQL.

Storage tests take `engine` / `sessions`, parametrised over both backends. The PostgreSQL server
starts once per test session (`pg_server`, tests/conftest.py); each test gets a fresh database
copied from a migrated template, so tests never see each other's rows; a SQLite store is a copy
of a migrated file likewise. Missing PostgreSQL
binaries make the PostgreSQL tests FAIL with install instructions: CI must not skip them.
"""

from __future__ import annotations

import itertools
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from db import make_sessionmaker, upgrade

# The helper modules (dbtestkit, dbworker) sit next to these tests and are imported by
# their own names, whatever pytest's import mode and whether tests/ is a package.
HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from tests.pgserver import create_database, drop_database  # noqa: E402
from tests.storekit import engine_at  # noqa: E402

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
]
_TEMPLATE = "watchfloor_template"
_names = itertools.count()


@pytest.fixture(scope="session")
def pg_template(pg_server: str) -> str:
    """A database at the latest migration, copied for each test (much faster than migrating)."""
    url = create_database(pg_server, _TEMPLATE)
    with engine_at(url) as engine:  # disposed: CREATE DATABASE ... TEMPLATE needs it idle
        upgrade(engine)
    return url


def _fresh_pg(pg_server: str, template: str | None) -> Iterator[str]:
    name = f"wf_test_{next(_names)}"
    url = create_database(pg_server, name, template=template)
    try:
        yield url
    finally:
        drop_database(pg_server, name)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """ "sqlite" or "postgresql"."""
    return str(request.param)


@pytest.fixture
def empty_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """URL of an empty database (no tables) on `backend`."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'store' / 'watchfloor.db'}"
        return
    yield from _fresh_pg(request.getfixturevalue("pg_server"), template=None)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite store at the latest migration, copied for each test as PostgreSQL's template is
    (a copy ~1 ms, migrating ~60 ms of CPU)."""
    path = tmp_path_factory.mktemp("sqlite-template") / "watchfloor.db"
    with engine_at(f"sqlite:///{path}") as engine:  # disposed: nothing left in a -wal file
        upgrade(engine)
    return path


@pytest.fixture
def db_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """URL of a database at the latest migration on `backend`."""
    if backend == "sqlite":
        path = tmp_path / "watchfloor.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    request.getfixturevalue("pg_template")
    yield from _fresh_pg(request.getfixturevalue("pg_server"), template=_TEMPLATE)


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """An engine on a migrated database of each backend."""
    with engine_at(db_url) as eng:
        yield eng


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    """Session factory on `engine`."""
    return make_sessionmaker(engine)
