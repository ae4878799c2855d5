"""`watchfloor web` as a user starts it: the installed command, serving in a real process;
refusing to start (a check before it serves) in the test process's CLI host (tests/clihost.py),
as its own process would."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import httpx

from tests.clikit import WATCHFLOOR
from tests.flows.test_cli import watchfloor_hosted
from tests.flows.test_cli_errors import PASSWORD, clean_failure, refused_port
from tests.notify.receivers import free_port
from tests.web.webkit import TOKEN


def test_binding_beyond_loopback_needs_a_token(tmp_path: Path, seed_store: str) -> None:
    message = clean_failure(
        watchfloor_hosted("web", "--db", seed_store, "--host", "0.0.0.0", cwd=tmp_path)
    )
    assert message.startswith("config error option --host:")
    assert "WATCHFLOOR_WEB_TOKEN" in message


def test_a_short_token_is_refused_without_echoing_it(tmp_path: Path, seed_store: str) -> None:
    short = "tiny-secret"
    result = watchfloor_hosted(
        "web", "--db", seed_store, cwd=tmp_path, env={"WATCHFLOOR_WEB_TOKEN": short}
    )
    message = clean_failure(result)
    assert "WATCHFLOOR_WEB_TOKEN" in message
    assert short not in result.stdout + result.stderr


def test_a_database_password_given_with_db_is_never_echoed(tmp_path: Path) -> None:
    url = f"postgresql+psycopg://watch:{PASSWORD}@127.0.0.1:{refused_port()}/watchfloor"
    message = clean_failure(watchfloor_hosted("web", "--db", url, cwd=tmp_path))
    assert "127.0.0.1" in message


def test_a_missing_store_is_not_created(tmp_path: Path) -> None:
    message = clean_failure(watchfloor_hosted("web", "--db", "sqlite:///absent.db", cwd=tmp_path))
    assert "no store at" in message
    assert not (tmp_path / "absent.db").exists()


def test_the_command_serves_the_console_behind_its_token(tmp_path: Path, seed_store: str) -> None:
    port = free_port()
    process = subprocess.Popen(
        [WATCHFLOOR, "web", "--db", seed_store, "--port", str(port)],
        cwd=tmp_path,
        env={
            **os.environ,
            "PREFECT_HOME": str(tmp_path / ".prefect"),
            "WATCHFLOOR_WEB_TOKEN": TOKEN,
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        answer = _first_answer(f"{base}/api/developments")
        assert answer.status_code == 401
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {TOKEN}"}) as client:
            assert len(client.get("/api/developments").json()) == 4
            login = client.get("/login", params={"token": TOKEN}, follow_redirects=True)
            assert login.status_code == 200
    finally:
        process.terminate()
        out, err = process.communicate(timeout=30)
    assert TOKEN not in out + err  # no access log echoing /login?token=
    assert f"http://127.0.0.1:{port}/ (token required)" in err


def _first_answer(url: str) -> httpx.Response:
    """The first answer of a server that is starting (connection refused until it listens);
    one client for every try (httpx.get builds an SSL context each call, ~22 ms)."""
    deadline = time.monotonic() + 60
    with httpx.Client(timeout=10) as client:
        while True:
            try:
                return client.get(url)
            except httpx.ConnectError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
