"""Everything a user types that can be wrong is one line naming the problem and the fix, exit 2,
no traceback, no password; and read commands never create a store. The installed command, on
real files and a real (refused) TCP port: replay and db in real processes of their own, read
commands one after another in the test process's CLI host (tests/clihost.py), each as its own
process would run it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

import db
from tests.conftest import SEEDS
from tests.flows.test_cli import watchfloor_hosted

PASSWORD = "s3cr3t-Pa55"


def clean_failure(result: subprocess.CompletedProcess[str]) -> str:
    """The stderr of a command that failed as a user's mistake should: exit 2, one message."""
    assert result.returncode == 2, (result.returncode, result.stderr[-3000:])
    assert "Traceback" not in result.stderr
    assert PASSWORD not in result.stdout + result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    return lines[0]


def refused_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("command", [["developments"], ["alerts", "list"], ["db", "upgrade"]])
def test_a_database_url_without_scheme_suggests_sqlite(tmp_path: Path, command: list[str]) -> None:
    message = clean_failure(watchfloor_hosted(*command, "--db", "x.db", cwd=tmp_path))
    assert "has no scheme" in message and "sqlite:///x.db" in message
    assert not (tmp_path / "x.db").exists()


def test_replay_with_a_bad_url_fails_before_prefect_starts(tmp_path: Path) -> None:
    message = clean_failure(watchfloor_hosted("replay", str(SEEDS), "--db", "x.db", cwd=tmp_path))
    assert "sqlite:///x.db" in message
    assert not (tmp_path / ".prefect").exists() or not any((tmp_path / ".prefect").glob("*.db"))


def test_an_unknown_driver_names_the_supported_ones(tmp_path: Path) -> None:
    message = clean_failure(
        watchfloor_hosted("developments", "--db", f"foo://user:{PASSWORD}@host/db", cwd=tmp_path)
    )
    assert "unknown driver 'foo'" in message
    assert "sqlite:///PATH" in message and "postgresql://" in message
    assert "***" in message


@pytest.mark.parametrize("command", [["developments"], ["db", "upgrade"]])
def test_an_unreachable_postgresql_is_one_line_with_host_and_port(
    tmp_path: Path, command: list[str]
) -> None:
    port = refused_port()
    url = f"postgresql://watchfloor:{PASSWORD}@127.0.0.1:{port}/watchfloor"
    message = clean_failure(watchfloor_hosted(*command, "--db", url, cwd=tmp_path))
    assert f"cannot reach the database at 127.0.0.1:{port}:" in message
    assert "refused" in message.lower()


@pytest.mark.slow
def test_replay_on_an_unreachable_postgresql_fails_before_any_flow(tmp_path: Path) -> None:
    url = f"postgresql://watchfloor:{PASSWORD}@127.0.0.1:{refused_port()}/watchfloor"
    message = clean_failure(watchfloor_hosted("replay", str(SEEDS), "--db", url, cwd=tmp_path))
    assert "cannot reach the database" in message


def test_replay_of_a_missing_path_exits_2(tmp_path: Path) -> None:
    missing = tmp_path / "nonexistent"
    url = f"sqlite:///{tmp_path / 'store.db'}"
    message = clean_failure(watchfloor_hosted("replay", str(missing), "--db", url, cwd=tmp_path))
    assert f"{missing}: no such file or folder" in message
    assert not (tmp_path / "store.db").exists()


# The `watchfloor` console script, in a process that says afterwards whether Prefect was imported.
IMPORTS_PREFECT = """
import sys
from flows.cli.app import app
try:
    app()
finally:
    print("prefect imported:", "prefect" in sys.modules, file=sys.stderr)
"""


def test_a_replay_that_fails_or_has_nothing_to_do_never_imports_prefect(
    tmp_path: Path, prefect_api_url: str
) -> None:
    # Prefect and the flow's stack cost ~1.2 CPU-s to import: a replay told to read a missing
    # path, or told to replay what is already stored and done, answers without them.
    url = f"sqlite:///{tmp_path / 'store.db'}"

    def replay(path: Path, **extra: str) -> subprocess.CompletedProcess[str]:
        argv = [sys.executable, "-c", IMPORTS_PREFECT, "replay", str(path), "--db", url]
        env = {**os.environ, "PREFECT_HOME": str(tmp_path / ".prefect"), **extra}
        return subprocess.run(argv, cwd=tmp_path, env=env, capture_output=True, text=True)

    missing = replay(tmp_path / "nonexistent")
    assert missing.returncode == 2
    assert missing.stderr.splitlines()[-1] == "prefect imported: False"
    # Stores the seeds: Prefect starts, on the session's API (this test is not about the
    # temporary API a replay serves itself, whose first start in a new home costs ~7 CPU-s).
    stored = replay(SEEDS, PREFECT_API_URL=prefect_api_url)
    assert stored.returncode == 0, stored.stderr[-3000:]
    assert stored.stderr.splitlines()[-1] == "prefect imported: True"
    again = replay(SEEDS)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "nothing to do" in again.stderr + again.stdout
    assert again.stderr.splitlines()[-1] == "prefect imported: False"


@pytest.mark.parametrize(
    "command",
    [["developments"], ["alerts", "list"], ["db", "purge", "--older-than", "30"]],
)
def test_read_commands_never_create_a_store(tmp_path: Path, command: list[str]) -> None:
    folder = tmp_path / "not" / "there"
    url = f"sqlite:///{folder / 'store.db'}"
    message = clean_failure(watchfloor_hosted(*command, "--db", url, cwd=tmp_path))
    assert f"no store at {url}" in message
    assert "watchfloor replay" in message and "watchfloor db upgrade" in message
    assert not (tmp_path / "not").exists()


def test_read_commands_on_the_default_url_create_nothing(tmp_path: Path) -> None:
    clean_failure(watchfloor_hosted("developments", cwd=tmp_path))
    assert not (tmp_path / "watchfloor.db").exists()


def test_a_store_behind_on_migrations_asks_for_db_upgrade(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = db.create_engine_for(url)
    try:
        db.upgrade(engine, revision="0001")
    finally:
        engine.dispose()
    message = clean_failure(watchfloor_hosted("developments", "--db", url, cwd=tmp_path))
    assert "run `watchfloor db upgrade`" in message
    engine = db.create_engine_for(url)
    try:
        assert db.current_revision(engine) == "0001", "a read command migrates nothing"
    finally:
        engine.dispose()


def test_an_empty_but_existing_store_lists_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    upgraded = watchfloor_hosted("db", "upgrade", "--db", url, cwd=tmp_path)
    assert upgraded.returncode == 0, upgraded.stderr
    listed = watchfloor_hosted("developments", "--db", url, "--json", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.strip() == "[]"
    alerts = watchfloor_hosted("alerts", "list", "--db", url, "--json", cwd=tmp_path)
    assert alerts.returncode == 0, alerts.stderr
    assert alerts.stdout.strip() == "[]"


def test_a_file_that_is_not_a_database_is_named(tmp_path: Path) -> None:
    bogus = tmp_path / "notes.db"
    bogus.write_text("these are my notes, not a database\n" * 200, encoding="utf-8")
    message = clean_failure(
        watchfloor_hosted("developments", "--db", f"sqlite:///{bogus}", cwd=tmp_path)
    )
    assert str(bogus) in message and "not a database" in message
    assert bogus.read_text(encoding="utf-8").startswith("these are my notes")


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("WATCHFLOOR_FETCH_BATCH_SIZE", "many", "as an integer (got 'many')"),
        ("WATCHFLOOR_LOOKBACK_DAYS", "-3", "greater than or equal to 1 (got '-3')"),
    ],
)
def test_a_bad_setting_names_its_variable(
    tmp_path: Path, variable: str, value: str, expected: str
) -> None:
    message = clean_failure(
        watchfloor_hosted(
            "developments", "--db", "sqlite:///x.db", cwd=tmp_path, env={variable: value}
        )
    )
    assert message.startswith(f"config error {variable} (environment or .env): ")
    assert expected in message


def test_a_bad_setting_from_dotenv_is_one_line_too(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("WATCHFLOOR_FETCH_CONCURRENCY=0\n", encoding="utf-8")
    message = clean_failure(watchfloor_hosted("replay", str(SEEDS), cwd=tmp_path))
    assert "WATCHFLOOR_FETCH_CONCURRENCY (environment or .env)" in message


def test_notify_urls_that_are_not_json_are_one_line_without_the_value(tmp_path: Path) -> None:
    # pydantic-settings decodes list settings itself and raised a traceback naming neither the
    # variable nor the expected form; the value may hold a token, so it is not echoed.
    value = f'["json://user:{PASSWORD}@127.0.0.1:9/"'
    message = clean_failure(
        watchfloor_hosted("replay", str(SEEDS), cwd=tmp_path, env={"WATCHFLOOR_NOTIFY_URLS": value})
    )
    assert message.startswith("config error WATCHFLOOR_NOTIFY_URLS (environment or .env): ")
    assert "must be a JSON list of Apprise URLs" in message


def test_notify_urls_may_be_given_without_json(monkeypatch: pytest.MonkeyPatch) -> None:
    from flows.context.settings import load_settings

    monkeypatch.setenv("WATCHFLOOR_NOTIFY_URLS", " json://127.0.0.1:9/a  json://127.0.0.1:9/b ")
    settings = load_settings()
    assert settings.notify_urls == ["json://127.0.0.1:9/a", "json://127.0.0.1:9/b"]
