"""Secrets audit of the whole test session: no credential of a test Apprise URL may leak.

Every credential that a test puts in an Apprise URL (password, token, key, path secret)
contains the marker `WFSECRET` (see tests/notify/test_notify_secrets.py). This plugin collects
what the session leaves behind and, at the end, searches it for the marker (ignoring case:
Apprise lower-cases host names):

- every log record of the session, written to `session.log` in the audit folder by a DEBUG
  handler on the root logger (set to DEBUG) and on Prefect's loggers that do not propagate.
  It is attached before Prefect is imported (Prefect's logging set-up then leaves a root
  logger with a user handler alone) and checked again before every test. SQLAlchemy's
  statement echo stays off: the databases it writes to are searched themselves. pytest's own
  log capture keeps its WARNING threshold unless --log-level says otherwise;
- the captured output of every test (stdout, stderr, log and failure reports) and what tests
  hand to `record_output` (the output of `watchfloor` run in a subprocess), in `outputs.log`;
- every Prefect database the session used (its PREFECT_HOME, the database of the test
  harness's API, tests/prefectdb.py: flow-run parameters, artifacts, logs, events) and every
  SQLite file under the session's temporary folder (Watchfloor stores, `.prefect` folders of CLI
  subprocesses), byte for byte, including pages SQLite has freed.

A finding fails the session (exit status 1) with the file, and for a database the table and
column, where the marker was found; what was found is masked in the report. The audit's own
files go to a new temporary folder (or $SECRET_AUDIT_DIR), removed after a clean session and
kept for inspection after a finding.

Under pytest-xdist the controller creates that folder and hands it to every worker
(`workerinput`); each worker writes its log and outputs to a subfolder named after it. A
worker searches only its Prefect API files (the test harness deletes its database when the
worker process exits) and leaves what it found in `prefect-files.json` there. The controller
then searches every log and outputs file in the folder, the session's temporary folder (which
holds each worker's own) and its Prefect home, adds the workers' findings and fails the
session as above. A worker folder without its result (a worker that died) is a finding.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import sqlite3
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

MARKER = "WFSECRET"
_NEEDLE = MARKER.lower().encode()
_MARKED_TOKEN = re.compile(re.escape(MARKER) + r"[^\s/:@?&=#'\"]*", re.IGNORECASE)
MASK = "[masked secret]"
AUDIT_DIR_ENV = "SECRET_AUDIT_DIR"  # where to keep the audit's files (default: a new temp folder)
_SECTION = "===== "
_CHUNK = 8 * 1024 * 1024
_SQLITE_SUFFIXES = (".db", ".db-wal", ".sqlite", ".sqlite3")
# Under xdist: the key of the audit folder in each worker's `workerinput`, and the file in which
# a worker leaves what it found in its Prefect API files.
_WORKER_INPUT_KEY = "secret_audit_dir"
_WORKER_RESULT = "prefect-files.json"

# Loggers with propagate=False in Prefect's logging configuration: the root handler never sees them.
_PREFECT_LOGGERS = ("prefect", "prefect.extra", "prefect._internal", "uvicorn", "fastapi")
# Loggers kept at WARNING although the root logger is at DEBUG (their output is searched where
# it lands): SQLAlchemy would echo every statement with its parameters.
_QUIET_LOGGERS = ("sqlalchemy",)
_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(threadName)s] %(message)s"


@dataclass(frozen=True, slots=True)
class Finding:
    """One place where the marker was found."""

    where: str
    detail: str

    def __str__(self) -> str:
        return f"{self.where}: {self.detail}"


class _State:
    """The audit of one session, or of one process of an xdist session.

    `role` is "session" (no xdist), "controller" or "worker"; `folder` is the audit folder and
    `own` the subfolder of this process's log and outputs (the folder itself but on a worker).
    """

    def __init__(self, folder: Path, role: str, own: Path) -> None:
        self.folder = folder
        self.role = role
        own.mkdir(parents=True, exist_ok=True)
        self.log_path = own / "session.log"
        self.outputs_path = own / "outputs.log"
        self.handler = logging.FileHandler(self.log_path, encoding="utf-8", delay=False)
        self.handler.setLevel(logging.DEBUG)
        self.handler.setFormatter(logging.Formatter(_FORMAT))
        self.outputs = self.outputs_path.open("a", encoding="utf-8")
        self.prefect_databases: set[Path] = set()
        self.findings: list[Finding] = []
        self.scanned: dict[str, int] = {}
        self.scanned_bytes = 0


_state: _State | None = None


# --- what tests call ------------------------------------------------------------------------


def record_output(label: str, text: str) -> None:
    """Add output the plugin cannot capture itself (a subprocess's stdout/stderr) to the audit."""
    if _state is None or not text:
        return
    _state.outputs.write(f"{_SECTION}{label}\n{text}\n")
    _state.outputs.flush()


def find_marker(data: bytes | str) -> bool:
    """Whether `data` contains the secret marker, in any case."""
    raw = data.encode("utf-8", "replace") if isinstance(data, str) else data
    return _NEEDLE in raw.lower()


# --- searching ------------------------------------------------------------------------------


def file_has_marker(path: Path) -> bool:
    """Whether the file's bytes contain the marker (read in chunks; any case)."""
    overlap = len(_NEEDLE) - 1
    tail = b""
    with path.open("rb") as stream:
        while chunk := stream.read(_CHUNK):
            window = (tail + chunk).lower()
            if _NEEDLE in window:
                return True
            tail = window[-overlap:]
    return False


def masked(text: str) -> str:
    """`text` with every marked token replaced: a report must not leak (or re-trigger) in turn."""
    return _MARKED_TOKEN.sub(MASK, text)


def _marked_lines(path: Path, limit: int = 5) -> list[str]:
    """The first lines of a text file holding the marker (masked), with their line numbers and,
    in the outputs file, the test and section they belong to."""
    found = []
    section = ""
    with path.open(encoding="utf-8", errors="replace") as stream:
        for number, line in enumerate(stream, start=1):
            if line.startswith(_SECTION):
                section = line[len(_SECTION) :].strip()
            if find_marker(line):
                where = f" ({masked(section)})" if section else ""
                found.append(f"line {number}{where}: {masked(line.strip())[:300]}")
                if len(found) >= limit:
                    break
    return found


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def database_hits(path: Path) -> list[str]:
    """`table.column (n rows)` for every column of a SQLite file whose text holds the marker."""
    hits: list[str] = []
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error:
        return hits
    try:
        tables = [
            row[0]
            for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
        ]
        for table in tables:
            columns = [row[1] for row in connection.execute(f"PRAGMA table_info({_quote(table)})")]
            for column in columns:
                query = (
                    f"SELECT count(*) FROM {_quote(table)} "
                    f"WHERE instr(lower(CAST({_quote(column)} AS TEXT)), ?) > 0"
                )
                count = connection.execute(query, (MARKER.lower(),)).fetchone()[0]
                if count:
                    hits.append(f"{table}.{column} ({count} rows)")
    except sqlite3.Error as exc:
        hits.append(f"(could not be queried: {exc})")
    finally:
        connection.close()
    return hits


def scan_file(path: Path, state: _State) -> None:
    """Search one file; record a finding, pinpointed as well as the file's kind allows."""
    try:
        size = path.stat().st_size
        state.scanned_bytes += size
        if not file_has_marker(path):
            return
    except OSError:
        return
    if path.suffix in (".db", ".sqlite", ".sqlite3"):
        detail = ", ".join(database_hits(path)) or "in pages SQLite has freed"
    elif path.suffix == ".db-wal":  # not yet checkpointed: the database reads through it
        database = path.with_suffix(".db")
        hits = database_hits(database) if database.exists() else []
        detail = (", ".join(hits) or "in freed pages") + " (in its write-ahead log)"
        path = database
    else:
        detail = "; ".join(_marked_lines(path)) or "in binary content"
    state.findings.append(Finding(str(path), detail))


def _files_under(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()] if folder.is_dir() else []


def _logs_and_outputs(state: _State) -> list[Path]:
    """This process's log and outputs; on a controller, those of every worker too."""
    if state.role != "controller":
        return [state.log_path, state.outputs_path]
    return [p for p in _files_under(state.folder) if p.name in ("session.log", "outputs.log")]


def _prefect_files(state: _State) -> list[Path]:
    """This process's Prefect home and the folders of its Prefect test harness databases."""
    found = []
    if os.environ.get("PREFECT_HOME"):
        found += _files_under(Path(os.environ["PREFECT_HOME"]))
    for database in state.prefect_databases:
        found += _files_under(database.parent)
    return found


def _unique(kinds: dict[str, list[Path]]) -> dict[str, list[Path]]:
    """`kinds` with each file once (in the first kind that names it)."""
    seen: set[Path] = set()
    for name, paths in kinds.items():
        unique = [p for p in dict.fromkeys(q.resolve() for q in paths) if p not in seen]
        seen.update(unique)
        kinds[name] = unique
    return kinds


def audited_files(state: _State, basetemp: Path | None) -> dict[str, list[Path]]:
    """Everything the audit searches in this process, by kind, each file once. A worker
    searches only its Prefect API files: the controller searches the rest after it."""
    if state.role == "worker":
        return _unique({"Prefect API files": _prefect_files(state)})
    kinds: dict[str, list[Path]] = {"logs and outputs": _logs_and_outputs(state)}
    kinds["Prefect API files"] = _prefect_files(state)
    stores = []
    if basetemp is not None:
        for path in _files_under(basetemp):
            if path.name.endswith(_SQLITE_SUFFIXES) or ".prefect" in path.parts:
                stores.append(path)
    kinds["SQLite files and .prefect folders of tests"] = stores
    return _unique(kinds)


# --- xdist: what workers leave for the controller -----------------------------------------


def _leave_worker_result(state: _State) -> None:
    """Write what this worker searched and found, for the controller to add to its audit."""
    result = {
        "scanned": state.scanned,
        "scanned_bytes": state.scanned_bytes,
        "findings": [[f.where, f.detail] for f in state.findings],
    }
    (state.log_path.parent / _WORKER_RESULT).write_text(json.dumps(result), encoding="utf-8")


def _add_worker_results(state: _State) -> None:
    """Add every worker's search to the controller's; a worker folder without one is a finding."""
    for folder in sorted(p for p in state.folder.iterdir() if p.is_dir()):
        path = folder / _WORKER_RESULT
        if not path.is_file():
            state.findings.append(
                Finding(str(folder), "the worker left no search of its Prefect API files")
            )
            continue
        result = json.loads(path.read_text(encoding="utf-8"))
        for kind, count in result["scanned"].items():
            state.scanned[kind] = state.scanned.get(kind, 0) + count
        state.scanned_bytes += result["scanned_bytes"]
        state.findings += [Finding(where, detail) for where, detail in result["findings"]]


# --- logging --------------------------------------------------------------------------------


def _attach(state: _State) -> None:
    """Root at DEBUG with the audit handler, and the handler on Prefect's private loggers."""
    root = logging.getLogger()
    if state.handler not in root.handlers:
        previous = root.getEffectiveLevel()
        for handler in root.handlers:
            # A console handler someone configured keeps showing what it showed before.
            if type(handler).__name__ == "PrefectConsoleHandler" and not handler.level:
                handler.setLevel(previous)
        root.addHandler(state.handler)
    root.setLevel(logging.DEBUG)
    for name in _PREFECT_LOGGERS:
        logger = logging.getLogger(name)
        if not logger.propagate and state.handler not in logger.handlers:
            logger.addHandler(state.handler)
    for name in _QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


def _detach(state: _State) -> None:
    for logger in [logging.getLogger(), *(logging.getLogger(n) for n in _PREFECT_LOGGERS)]:
        if state.handler in logger.handlers:
            logger.removeHandler(state.handler)
    state.handler.close()
    state.outputs.close()


def _prefect_database() -> Path | None:
    """The SQLite file of the Prefect API the current settings point at, if any."""
    try:
        from prefect.settings import PREFECT_SERVER_DATABASE_CONNECTION_URL

        url = PREFECT_SERVER_DATABASE_CONNECTION_URL.value()
    except Exception:  # no Prefect, or settings unreadable: nothing to remember
        return None
    match = re.match(r"^sqlite(?:\+\w+)?:///(.+)$", str(url or ""))
    return Path(match.group(1)) if match else None


# --- pytest hooks ---------------------------------------------------------------------------


def _distributes(config: pytest.Config) -> bool:
    """Whether this process is the controller of an xdist session (its tests run in workers)."""
    return config.getoption("dist", "no") != "no" and bool(config.getoption("tx", None))


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """xdist: tell each worker the audit folder (the controller's hook, before a worker starts)."""
    if _state is not None:
        node.workerinput[_WORKER_INPUT_KEY] = str(_state.folder)


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """Start the audit: open its files and attach the handler (before Prefect is imported)."""
    global _state
    if _state is not None:
        return
    if config.getoption("log_level", None) is None and not config.getini("log_level"):
        # The root logger is at DEBUG now: pytest's own capture (caplog, "Captured log" of a
        # failure) keeps the WARNING threshold it had, rather than showing every debug line.
        config.option.log_level = "WARNING"
    worker_input = getattr(config, "workerinput", None)
    if worker_input is not None:
        folder = Path(worker_input[_WORKER_INPUT_KEY])
        _state = _State(folder, "worker", folder / str(worker_input["workerid"]))
    else:
        chosen = os.environ.get(AUDIT_DIR_ENV)
        folder = Path(chosen or tempfile.mkdtemp(prefix="watchfloor-secret-audit-"))
        folder.mkdir(parents=True, exist_ok=True)
        _state = _State(folder, "controller" if _distributes(config) else "session", folder)
    # Attached before Prefect is imported: Prefect's logging set-up then finds a user handler on
    # the root logger and leaves the root logger (its level, its handlers) alone.
    _attach(_state)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Put the handler back if anything (Prefect's logging set-up) removed it."""
    if _state is not None:
        _attach(_state)


@pytest.hookimpl(wrapper=True)
def pytest_fixture_setup(fixturedef: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """Remember the database of every Prefect test harness, to search it at the end."""
    result = yield
    if _state is not None and fixturedef.argname == "prefect_harness":
        database = _prefect_database()
        if database is not None:
            _state.prefect_databases.add(database)
    return result


def _report_texts(report: pytest.TestReport) -> Iterable[tuple[str, str]]:
    # A report repeats the sections of earlier phases: keep this phase's own.
    yield from ((name, text) for name, text in report.sections if name.endswith(report.when))
    if report.failed and report.longrepr is not None:
        yield "failure", report.longreprtext


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Keep each test phase's captured output and failure text (a worker's reports are kept by
    the worker, before xdist hands them to the controller)."""
    if _state is None or _state.role == "controller":
        return
    for name, text in _report_texts(report):
        record_output(f"{report.nodeid} [{report.when}] {name}", text)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Search everything, after session fixtures (the Prefect harness) have been torn down."""
    if _state is None:
        return
    for handler in logging.getLogger().handlers:
        handler.flush()
    _state.outputs.flush()
    factory = getattr(session.config, "_tmp_path_factory", None)
    basetemp = factory.getbasetemp() if factory is not None else None
    for kind, paths in audited_files(_state, basetemp).items():
        _state.scanned[kind] = len(paths)
        for path in paths:
            scan_file(path, _state)
    if _state.role == "worker":
        _leave_worker_result(_state)
        return
    if _state.role == "controller":
        _add_worker_results(_state)
    if _state.findings:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Say what the audit searched, and every finding."""
    if _state is None or _state.role == "worker":
        return
    counts = ", ".join(f"{n} {kind}" for kind, n in _state.scanned.items())
    scanned = f"{counts}; {_state.scanned_bytes / 1e6:.1f} MB"
    if not _state.findings:
        terminalreporter.write_line(f"secret audit: no test secret found ({scanned})")
        return
    terminalreporter.section("secret audit FAILED", sep="=", red=True, bold=True)
    terminalreporter.write_line(
        f"A credential from a test Apprise URL leaked into {len(_state.findings)} "
        f"place(s) ({scanned} searched):",
        red=True,
    )
    for finding in _state.findings:
        terminalreporter.write_line(f"  {finding}")
    terminalreporter.write_line(f"The session's logs and outputs are kept in {_state.folder}")


def pytest_unconfigure(config: pytest.Config) -> None:
    """Close the audit's files."""
    global _state
    if _state is not None:
        _detach(_state)
        # Kept for inspection only when something leaked; a worker's files are the controller's
        # to search and remove, after every worker has ended.
        if not _state.findings and _state.role != "worker":
            shutil.rmtree(_state.folder, ignore_errors=True)
        _state = None
