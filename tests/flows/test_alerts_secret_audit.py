"""The secrets audit itself (tests/secret_audit.py): a leak anywhere fails a whole session.

Each case runs a small pytest session in a subprocess with the plugin, so the deliberate leak
stays in that session (and its output is not handed to this session's audit). The cases marked
`WORKERS` run that session both in one process and in two pytest-xdist workers, as `make test`
does: the controller must find what a worker leaked.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.secret_audit import database_hits, file_has_marker, find_marker, masked

# Built at run time, so that this file's own text is all that holds it.
LEAK = "WF" + "SECRET" + "leak42"
# The inner session in one process, and in two xdist workers.
WORKERS = pytest.mark.parametrize("workers", [0, 2], ids=["one-process", "xdist"])


def inner_session(
    tmp_path: Path, body: str, *plugins: str, workers: int = 0
) -> subprocess.CompletedProcess[str]:
    """Run `body` as a test module in its own pytest session with the audit plugin (in
    `workers` xdist workers if not 0)."""
    (tmp_path / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    (tmp_path / "test_inner.py").write_text(textwrap.dedent(body), encoding="utf-8")
    # This test may itself run in an xdist worker: the inner session is a session of its own,
    # without the outer session's options (PYTEST_ADDOPTS=--cputime=FILE names a plugin of
    # this repository's conftest, which the inner session does not load).
    outer = {name for name in os.environ if name.startswith("PYTEST_XDIST_")}
    outer.add("PYTEST_ADDOPTS")
    env = {
        **{name: value for name, value in os.environ.items() if name not in outer},
        "PYTHONPATH": str(ROOT),
        "PREFECT_HOME": str(tmp_path / "prefect-home"),
        "INNER_LEAK": LEAK,
        # Kept when the inner session finds its leak: inside this test's folder, not /tmp.
        "SECRET_AUDIT_DIR": str(tmp_path / "audit"),
    }
    args = [sys.executable, "-m", "pytest", "test_inner.py", "-q", "-p", "no:cacheprovider"]
    # Hypothesis's plugin imports Hypothesis in every process (~0.6 CPU-s, three processes a
    # session in workers); no inner test uses it.
    args += ["-p", "no:hypothesispytest"]
    # Its temporary folder inside this test's: not left in the machine's.
    args += ["-n", str(workers), f"--basetemp={tmp_path / 'basetemp'}"]
    for plugin in plugins or ("tests.secret_audit",):
        args += ["-p", plugin]
    return subprocess.run(
        args, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False
    )


@WORKERS
def test_a_clean_session_passes(tmp_path: Path, workers: int) -> None:
    result = inner_session(
        tmp_path,
        """
        import logging

        def test_quiet():
            logging.getLogger("apprise").debug("posting to json://user:****@127.0.0.1/hook")

        def test_quiet_too():
            print("nothing secret")
        """,
        workers=workers,
    )
    assert result.returncode == 0, result.stdout
    assert "secret audit: no test secret found" in result.stdout
    assert "WFSECRET" not in result.stdout
    assert not (tmp_path / "audit").exists()  # removed after a clean session, workers' too
    assert ("bringing up nodes" in result.stdout) == bool(workers)  # xdist ran it in workers


@WORKERS
def test_a_debug_log_line_of_any_library_fails_the_session(tmp_path: Path, workers: int) -> None:
    result = inner_session(
        tmp_path,
        """
        import logging, os

        def test_passes_but_leaks():
            url = "json://user:" + os.environ["INNER_LEAK"] + "@127.0.0.1/hook"
            logging.getLogger("some.library").debug("connecting to %s", url)
        """,
        workers=workers,
    )
    assert result.returncode == 1, result.stdout
    assert "1 passed" in result.stdout
    assert "secret audit FAILED" in result.stdout
    assert "session.log: line" in result.stdout
    assert LEAK not in result.stdout  # the report masks what it found
    assert "[masked secret]" in result.stdout


@WORKERS
def test_captured_output_fails_the_session(tmp_path: Path, workers: int) -> None:
    result = inner_session(
        tmp_path,
        """
        import os

        def test_prints():
            print("subscriber", os.environ["INNER_LEAK"])
        """,
        workers=workers,
    )
    assert result.returncode == 1, result.stdout
    assert "outputs.log" in result.stdout and "Captured stdout call" in result.stdout


@pytest.mark.slow
@WORKERS
def test_a_flow_run_parameter_in_prefects_database_fails_the_session(
    tmp_path: Path, workers: int
) -> None:
    result = inner_session(
        tmp_path,
        """
        import os

        import pytest
        from prefect import flow

        @flow
        def notify_someone(url: str) -> str:
            return "ok"

        @pytest.mark.usefixtures("prefect_harness")
        def test_flow_with_a_url_parameter():
            assert notify_someone("json://user:" + os.environ["INNER_LEAK"] + "@h/x") == "ok"
        """,
        "tests.conftest",
        workers=workers,
    )
    assert result.returncode == 1, result.stdout + result.stderr[-2000:]
    assert "secret audit FAILED" in result.stdout
    assert "prefect-test.db: " in result.stdout
    assert "flow_run.parameters (1 rows)" in result.stdout
    assert LEAK not in result.stdout


@WORKERS
def test_a_test_store_in_the_sessions_temporary_folder_fails_the_session(
    tmp_path: Path, workers: int
) -> None:
    result = inner_session(
        tmp_path,
        """
        import os, sqlite3

        def test_stores_a_url(tmp_path):
            connection = sqlite3.connect(tmp_path / "watchfloor.db")
            with connection:
                connection.execute("CREATE TABLE subscribers (url TEXT)")
                leak = os.environ["INNER_LEAK"]
                connection.execute("INSERT INTO subscribers VALUES (?)", (leak,))
            connection.close()
        """,
        workers=workers,
    )
    try:
        assert result.returncode == 1, result.stdout + result.stderr[-2000:]
        assert "watchfloor.db: subscribers.url (1 rows)" in result.stdout
        assert LEAK not in result.stdout
    finally:  # this session's own audit searches every SQLite file of its tests
        shutil.rmtree(tmp_path / "basetemp")


def test_search_helpers(tmp_path: Path) -> None:
    import sqlite3

    assert find_marker("a WfSecret b") and not find_marker("nothing here")
    assert masked(f"url json://u:{LEAK}@h/{LEAK}x?k={LEAK}") == (
        "url json://u:[masked secret]@h/[masked secret]?k=[masked secret]"
    )
    big = tmp_path / "big.log"
    with big.open("wb") as stream:  # the marker straddles two read chunks
        stream.write(b"x" * (8 * 1024 * 1024 - 3) + LEAK.lower().encode())
    assert file_has_marker(big)
    store = tmp_path / "store.db"
    try:
        connection = sqlite3.connect(store)
        with connection:
            connection.execute("CREATE TABLE t (a TEXT, b BLOB, c INTEGER)")
            connection.execute("INSERT INTO t VALUES ('clean', ?, 1)", (LEAK.encode(),))
        connection.close()
        assert database_hits(store) == ["t.b (1 rows)"]
    finally:  # this session's own audit searches every SQLite file of its tests
        store.unlink(missing_ok=True)
