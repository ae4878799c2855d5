"""A throwaway PostgreSQL server for tests, started from the machine's PostgreSQL binaries.

    url, stop = start_postgres(tmp_dir)   # "postgresql+psycopg://postgres@127.0.0.1:PORT/postgres"
    ...
    stop()                                # stops the server and deletes its files

initdb + pg_ctl in a fresh directory, listening on 127.0.0.1 on a free port (unix socket in the
same directory), trust authentication, durability off (fsync, full-page writes: it is thrown
away). initdb refuses to run as root, so under root the server runs as an unprivileged user
(POSTGRES_RUN_AS, else `postgres`, else `nobody`) in a directory under the system temp dir
that this user owns. Binaries: POSTGRES_BIN_DIR, else `initdb` on PATH, else the newest
/usr/lib/postgresql/*/bin. When none are found, PostgresUnavailableError says how to install them.

Depends on nothing but the standard library (and psycopg for `create_database`), so tests/
conftest.py can import it too.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pwd
import shutil
import socket
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from tests.clikit import run_captured

INSTALL_HINT = (
    "PostgreSQL 15 server binaries (initdb, pg_ctl) were not found. Install them with\n"
    "    apt-get install postgresql-15\n"
    "(Debian/Ubuntu: the binaries land in /usr/lib/postgresql/15/bin), or point\n"
    "POSTGRES_BIN_DIR at the directory holding initdb and pg_ctl."
)
SUPERUSER = "postgres"


class PostgresUnavailableError(RuntimeError):
    """PostgreSQL binaries are missing or the server could not start; the message says why."""


def find_pg_bin() -> Path | None:
    """The directory holding initdb and pg_ctl, or None."""
    candidates: list[Path] = []
    if os.environ.get("POSTGRES_BIN_DIR"):
        candidates.append(Path(os.environ["POSTGRES_BIN_DIR"]))
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
        reverse=True,
    )
    candidates.extend(versions)
    for directory in candidates:
        if (directory / "initdb").is_file() and (directory / "pg_ctl").is_file():
            return directory
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _server_user() -> tuple[int, int] | None:
    """(uid, gid) to run the server as: None when we are not root."""
    if os.geteuid() != 0:
        return None
    names = [os.environ.get("POSTGRES_RUN_AS") or "", "postgres", "nobody"]
    for name in filter(None, names):
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            continue
        return entry.pw_uid, entry.pw_gid
    raise PostgresUnavailableError(
        "running as root and no unprivileged user (postgres, nobody) exists to run PostgreSQL; "
        "set POSTGRES_RUN_AS to one"
    )


def _run(cmd: list[str], user: tuple[int, int] | None, cwd: Path) -> str:
    """Run a PostgreSQL tool (as `user` when given) and return its output, or raise with it."""
    env = {**os.environ, "LC_ALL": "C", "LANG": "C", "HOME": str(cwd)}
    proc = run_captured(cmd, cwd=cwd, env=env, timeout=120, user=user)
    if proc.returncode != 0:
        raise PostgresUnavailableError(
            f"{Path(cmd[0]).name} failed ({proc.returncode}): {proc.stdout}\n{proc.stderr}"
        )
    return proc.stdout


def _log_tail(log: Path) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-30:])
    except OSError:
        return ""


def start_postgres(tmpdir: str | Path | None = None) -> tuple[str, Callable[[], None]]:
    """Start a throwaway PostgreSQL; return its URL and a `stop()` that also deletes its files.

    `tmpdir` is where the cluster lives when not running as root; as root a fresh directory
    under the system temp dir is used instead, because the unprivileged server user must be able
    to reach it (pytest's tmp dirs are private to root).
    """
    bindir = find_pg_bin()
    if bindir is None:
        raise PostgresUnavailableError(INSTALL_HINT)
    user = _server_user()
    parent = None if user is not None or tmpdir is None else str(tmpdir)
    base = Path(tempfile.mkdtemp(prefix="watchfloor-pg-", dir=parent))
    if user is not None:
        os.chown(base, *user)
    data, log = base / "data", base / "postgres.log"
    initdb = [str(bindir / "initdb"), "-D", str(data), "-U", SUPERUSER, "--auth=trust"]
    _run([*initdb, "-E", "UTF8", "--locale=C", "--no-sync"], user, base)

    last_error = ""
    for _attempt in range(5):  # a free port can be taken between choosing and binding it
        port = _free_port()
        options = (
            f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=60"
        )
        pg_ctl = [str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options]
        try:
            _run([*pg_ctl, "-w", "-t", "60", "start"], user, base)
        except PostgresUnavailableError as exc:
            last_error = f"{exc}\n{_log_tail(log)}"
            continue
        break
    else:
        shutil.rmtree(base, ignore_errors=True)
        raise PostgresUnavailableError(f"PostgreSQL did not start:\n{last_error}")

    stopped = False

    def stop() -> None:
        nonlocal stopped
        if stopped:
            return
        stopped = True
        with contextlib.suppress(Exception):
            _run(
                [str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
                user,
                base,
            )
        shutil.rmtree(base, ignore_errors=True)

    atexit.register(stop)  # a crashed test session must not leave a server behind
    return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{port}/postgres", stop


def create_database(server_url: str, name: str, template: str | None = None) -> str:
    """Create database `name` (optionally copied from `template`) and return its URL."""
    import psycopg

    conninfo = server_url.replace("postgresql+psycopg://", "postgresql://")
    clause = f' TEMPLATE "{template}"' if template else ""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"{clause}'.encode())
    return server_url.rsplit("/", 1)[0] + f"/{name}"


def drop_database(server_url: str, name: str) -> None:
    """Drop database `name`, disconnecting whoever is still connected."""
    import psycopg

    conninfo = server_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'.encode())


def wait_ready(server_url: str, timeout_s: float = 10.0) -> None:
    """Block until the server accepts connections."""
    import psycopg

    conninfo = server_url.replace("postgresql+psycopg://", "postgresql://")
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with psycopg.connect(conninfo, connect_timeout=2):
                return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
