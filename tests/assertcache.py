"""pytest's assertion-rewritten bytecode of every test module and conftest, written once:
`pytest -p tests.assertcache` collects and runs nothing else. `make test` runs it first when a
test file changed (on a fresh checkout, all of them): else each xdist worker rewrites every
module itself, at once with the others, ~2.2 CPU-s a process. pytest checks these files by
their source's hash, so later runs and workers read them as their own.

It writes what pytest's import hook would (`_pytest.assertion.rewrite`, pytest 9.2: the same
functions, with this session's configuration); the conftests and plugins that pytest loads at
its start it rewrote itself by then."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator
from pathlib import Path

import pytest
from _pytest.assertion.rewrite import (
    PYC_TAIL,
    _read_pyc,
    _rewrite_test,
    _write_pyc,
    assertstate_key,
    get_cache_dir,
)


def rewritten_modules(config: pytest.Config) -> Iterator[Path]:
    """The test modules (python_files) and conftests under the configured test paths."""
    patterns = [*config.getini("python_files"), "conftest.py"]
    for folder in config.getini("testpaths"):
        for path in sorted((config.rootpath / folder).rglob("*.py")):
            if any(fnmatch.fnmatch(path.name, pattern) for pattern in patterns):
                yield path


@pytest.hookimpl(tryfirst=True)
def pytest_collection(session: pytest.Session) -> bool:
    """Write the rewritten bytecode that is missing or out of date, instead of collecting."""
    state = session.config.stash[assertstate_key]
    for path in rewritten_modules(session.config):
        pyc = get_cache_dir(path) / (path.name[:-3] + PYC_TAIL)
        if _read_pyc(path, pyc) is None:
            source_hash, code = _rewrite_test(path, session.config)
            pyc.parent.mkdir(exist_ok=True)
            _write_pyc(state, code, source_hash, pyc)
    return True


def pytest_sessionfinish(session: pytest.Session) -> None:
    """No test was meant to run: that is success, not pytest's "no tests collected"."""
    if session.exitstatus == pytest.ExitCode.NO_TESTS_COLLECTED:
        session.exitstatus = pytest.ExitCode.OK
