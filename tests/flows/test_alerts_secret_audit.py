"""The secrets audit itself (tests/secret_audit.py): a leak anywhere fails a whole session.

Each case runs a small pytest session in a subprocess with the plugin, so the deliberate leak
stays in that session (and its output is not handed to this session's audit).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.secret_audit import database_hits, file_has_marker, find_marker, masked

# Built at run time, so that this file's own text is all that holds it.
LEAK = "WF" + "SECRET" + "leak42"


def inner_session(tmp_path: Path, body: str, *plugins: str) -> subprocess.CompletedProcess[str]:
    """Run `body` as a test module in its own pytest session with the audit plugin."""
    (tmp_path / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    (tmp_path / "test_inner.py").write_text(textwrap.dedent(body), encoding="utf-8")
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "PREFECT_HOME": str(tmp_path / "prefect-home"),
        "INNER_LEAK": LEAK,
        # Kept when the inner session finds its leak: inside this test's folder, not /tmp.
        "SECRET_AUDIT_DIR": str(tmp_path / "audit"),
    }
    args = [sys.executable, "-m", "pytest", "test_inner.py", "-q", "-p", "no:cacheprovider"]
    for plugin in plugins or ("tests.secret_audit",):
        args += ["-p", plugin]
    return subprocess.run(
        args, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False
    )


def test_a_clean_session_passes(tmp_path: Path) -> None:
    result = inner_session(
        tmp_path,
        """
        import logging

        def test_quiet():
            logging.getLogger("apprise").debug("posting to json://user:****@127.0.0.1/hook")
        """,
    )
    assert result.returncode == 0, result.stdout
    assert "secret audit: no test secret found" in result.stdout
    assert "WFSECRET" not in result.stdout


def test_a_debug_log_line_of_any_library_fails_the_session(tmp_path: Path) -> None:
    result = inner_session(
        tmp_path,
        """
        import logging, os

        def test_passes_but_leaks():
            url = "json://user:" + os.environ["INNER_LEAK"] + "@127.0.0.1/hook"
            logging.getLogger("some.library").debug("connecting to %s", url)
        """,
    )
    assert result.returncode == 1, result.stdout
    assert "1 passed" in result.stdout
    assert "secret audit FAILED" in result.stdout
    assert "session.log: line" in result.stdout
    assert LEAK not in result.stdout  # the report masks what it found
    assert "[masked secret]" in result.stdout


def test_captured_output_fails_the_session(tmp_path: Path) -> None:
    result = inner_session(
        tmp_path,
        """
        import os

        def test_prints():
            print("subscriber", os.environ["INNER_LEAK"])
        """,
    )
    assert result.returncode == 1, result.stdout
    assert "outputs.log" in result.stdout and "Captured stdout call" in result.stdout


@pytest.mark.slow
def test_a_flow_run_parameter_in_prefects_database_fails_the_session(tmp_path: Path) -> None:
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
    )
    assert result.returncode == 1, result.stdout + result.stderr[-2000:]
    assert "secret audit FAILED" in result.stdout
    assert "prefect-test.db: " in result.stdout
    assert "flow_run.parameters (1 rows)" in result.stdout
    assert LEAK not in result.stdout


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
