"""A long replay's analysis done ahead, in a process of its own, while the replay still stores.

Why: in one process a replay's stages take turns on one core. Of a 10,000-file replay's ~11 s,
storing takes ~5 s and detecting ~5 s, ~4.4 s of which is analysis: pure Python per article.
Here a second process (`python -m flows.stages.ahead`, without Prefect: ~0.5 s of imports, on the
other core) reads each article once it is stored, analyses it, and sends back what it found, so
the detect stage finds most analyses done when it reaches their articles. Writing stays in the
replay's process: what developments and alerts come of the matches depends on the queue's
order, and the store has one writer (on SQLite, one write lock).

Exact by construction. Analysis is pure (`flows.stages.analysis`): an article's matches depend only
on how it reads and on the rules, and the process works with the replay's own compiled rules. It
reads each article as the detect stage reads it and sends, with the analysis, a digest of what it
read (`reading_digest`); the detect stage takes an analysis only for an article that reads the same
for it, and analyses any other itself. How far the process got, or whether it started at all,
changes how long detection takes, never what it finds. The detect stage never waits for the process:
an article whose analysis has not come yet it analyses itself, and tells the process to go on past
it, so that on a busy machine the two share the work rather than the replay waiting for a process
starved of a core.

Durable by construction: the process writes nothing. A replay killed anywhere leaves the store
as it would without it; the process dies with the replay's (Linux: PR_SET_PDEATHSIG) or at the
end of its pipe. A process that fails, stalls or dies is only missed: the detect stage analyses
the rest itself.

Memory: analyses wait in the replay's process until the detect stage takes them, and a replay
detects once everything is stored: the process holds at most AHEAD_MAX analyses that the
detect stage has not taken, so memory stays flat in a replay's size.
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import logging
import os
import signal
import subprocess
import sys
import threading
import traceback
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from types import TracebackType

import db
import detect
from flows.context.runtime import engine_for, snapshot
from flows.stages.analysis import Found, analyse_item
from flows.stages.keyed import keyed, run_logger

log = logging.getLogger(__name__)

_PR_SET_PDEATHSIG = 1  # linux/prctl.h
# Articles read from the store and analysed at a time (one message back).
READ_AT_ONCE = 200
# Analyses held for the detect stage at most: ~150 bytes each with their digests (most
# articles match nothing), ~1.5 MB in all.
AHEAD_MAX = 10_000


def reading_digest(item: db.QueuedArticle) -> bytes:
    """A digest of everything detection reads of a queued article (`detection_input`): two
    readings with the same digest are analysed alike."""
    digest = hashlib.blake2b(digest_size=16)
    for part in (str(item.id), item.title, item.text, repr(item.reference), str(item.dated)):
        data = part.encode("utf-8", "surrogatepass")
        digest.update(len(data).to_bytes(8, "little"))
        digest.update(data)
    return digest.digest()


@dataclass(frozen=True, slots=True)
class _Job:
    """What the process analyses with (its first message)."""

    database_url: str
    ruleset: detect.RuleSet
    rules_version: str
    limit: int  # analyses held for the detect stage at most


@dataclass(frozen=True, slots=True)
class _Ahead:
    """The process's news: the analyses of the articles it read up to store id `cursor`."""

    cursor: int
    found: list[tuple[int, bytes, Found]]  # (store id, reading digest, analysis)


@dataclass(frozen=True, slots=True)
class _SkipTo:
    """To the process: the detect stage analysed articles up to store id `cursor` itself."""

    cursor: int


class AnalysisAhead:
    """The replay's end of its analysing process. Ingest tells it of each commit (`stored`:
    a `flows.stages.ingest.StoreWatcher`); the detect stage takes analyses (`take`: a
    `flows.stages.analysis.AnalysedAhead`). A context manager: leaving it ends the process."""

    def __init__(
        self, process: subprocess.Popen[bytes], orders: Connection, news: Connection
    ) -> None:
        self._process = process
        # To the process: the job, then credits (analyses taken or dropped; 0: more stored)
        # and where to go on from (_SkipTo).
        self._orders = orders
        self._news = news  # from it: _Ahead messages, or a traceback
        self._sending = threading.Lock()  # one message at a time, in the order given
        self._changed = threading.Lock()  # what follows, shared with the receiving thread
        # Store id -> (reading digest, analysis); an analysis that found nothing (most of them)
        # is held as its digest alone: ~110 bytes less each.
        self._found: dict[int, bytes | tuple[bytes, Found]] = {}
        self._cursor = 0  # the process has read every article it will up to this id
        # Articles analysed here that the process may still send: dropped when they come.
        self._analysed_here: set[int] = set()
        self.used = 0  # analyses the detect stage took from the process
        self._receiver = threading.Thread(target=self._receive, name="analysis-ahead", daemon=True)

    @classmethod
    def start(
        cls,
        database_url: str,
        ruleset: detect.RuleSet,
        rules_version: str,
        limit: int = AHEAD_MAX,
    ) -> AnalysisAhead:
        """Start the process; it analyses what awaits detection, and what is stored next,
        holding at most `limit` analyses the detect stage has not taken."""
        orders_in, orders_out = os.pipe()
        news_in, news_out = os.pipe()
        orders, news = Connection(orders_out, readable=False), Connection(news_in, writable=False)
        try:
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "flows.stages.ahead",
                    str(orders_in),
                    str(news_out),
                    str(os.getpid()),
                ],
                pass_fds=(orders_in, news_out),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,  # a command's output (`--json`) stays its own
            )
        except BaseException:
            orders.close()
            news.close()
            raise
        finally:
            os.close(orders_in)
            os.close(news_out)
        ahead = cls(process, orders, news)
        ahead._receiver.start()
        # The job (~1 MB with the rules) fills the pipe until the process has imported what it
        # needs: sent by a thread of its own, holding the lock, so the replay goes on meanwhile.
        ahead._sending.acquire()
        job = _Job(database_url, ruleset, rules_version, limit)
        threading.Thread(target=ahead._send_job, args=(job,), name="analysis-job").start()
        return ahead

    def _send_job(self, job: _Job) -> None:
        try:
            with contextlib.suppress(OSError):
                self._orders.send(job)
        finally:
            self._sending.release()

    def _send(self, message: int | _SkipTo) -> None:
        # A process that died can no longer hear: the detect stage analyses the rest itself.
        with self._sending, contextlib.suppress(OSError):
            self._orders.send(message)

    def stored(self) -> None:
        """Articles were committed: the process reads on if it had found nothing more. Never
        waits: any message wakes the process, so while one is being sent (at first, the job,
        until the process has imported what it needs) this one would add nothing."""
        if not self._sending.acquire(blocking=False):
            return
        try:
            with contextlib.suppress(OSError):
                self._orders.send(0)
        finally:
            self._sending.release()

    def take(self, queued: Sequence[db.QueuedArticle]) -> Mapping[int, Found]:
        """The analyses of those of `queued` that the process read as they read now. The
        others are left to the caller, and the process goes on past them."""
        taken: dict[int, Found] = {}
        held, missing = 0, []
        with self._changed:
            for item in queued:
                entry = self._found.pop(item.id, None)
                if entry is None:
                    missing.append(item.id)
                    continue
                held += 1
                digest, found = _unheld(entry)
                if digest == reading_digest(item):
                    taken[item.id] = found
            coming = [i for i in missing if i > self._cursor]
            self._analysed_here.update(coming)
        if held:
            self._send(held)
        if coming:
            self._send(_SkipTo(max(coming)))
        self.used += len(taken)
        return taken

    def _receive(self) -> None:
        try:
            while True:
                news = self._news.recv()
                if isinstance(news, str):
                    log.warning("the analysing process failed:\n%s", news)
                    return
                dropped = self._keep(news)
                if dropped:
                    self._send(dropped)
        except (EOFError, OSError):  # it ended, or was ended
            pass

    def _keep(self, news: _Ahead) -> int:
        """Keep the analyses of articles not analysed here; how many were dropped."""
        with self._changed:
            here = self._analysed_here
            kept = [(i, _held(d, found)) for i, d, found in news.found if i not in here]
            self._found.update(kept)
            self._cursor = news.cursor
            # Once the process has read past them, it will never send them.
            self._analysed_here = {i for i in here if i > news.cursor}
        return len(news.found) - len(kept)

    @property
    def held(self) -> int:
        """Analyses received and not yet taken."""
        with self._changed:
            return len(self._found)

    @property
    def pid(self) -> int:
        """The analysing process's id."""
        return self._process.pid

    def _stop(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            self._process.kill()

    def __enter__(self) -> AnalysisAhead:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        # It writes nothing: ended at once, whatever it is doing.
        self._stop()
        self._process.wait()
        with self._sending:  # the job is sent (or the process is gone)
            self._orders.close()
        self._receiver.join()
        self._news.close()
        # On the run's page, beside the stage summaries.
        run_logger().info(keyed("analysis-ahead", used=self.used))


def _held(digest: bytes, found: Found) -> bytes | tuple[bytes, Found]:
    """How an analysis waits for the detect stage: its digest alone when it found nothing."""
    return digest if found == [] else (digest, found)


def _unheld(entry: bytes | tuple[bytes, Found]) -> tuple[bytes, Found]:
    """(reading digest, analysis) of an entry `_held` made."""
    return (entry, []) if isinstance(entry, bytes) else entry


# --- the analysing process ---------------------------------------------------------------------


def analyse_ahead(job: _Job, orders: Connection, news: Connection) -> None:
    """Analyse what awaits detection in storing order, as it is stored, holding at most
    `job.limit` analyses the detect stage has not taken; until the pipe from the replay closes."""
    cursor, held, idle = 0, 0, False
    while True:
        if idle or held >= job.limit:
            cursor, held = _heard(orders.recv(), cursor, held)  # EOFError: the replay is done
            idle = False
        while orders.poll():
            cursor, held = _heard(orders.recv(), cursor, held)
        if held >= job.limit:
            continue
        with snapshot(job.database_url) as session:
            queued = db.awaiting_after(
                session, job.rules_version, cursor, min(READ_AT_ONCE, job.limit - held)
            )
        if not queued:
            idle = True
            continue
        found = [
            (item.id, reading_digest(item), analyse_item(job.ruleset, item)) for item in queued
        ]
        cursor, held = queued[-1].id, held + len(queued)
        news.send(_Ahead(cursor, found))


def _heard(message: int | _SkipTo, cursor: int, held: int) -> tuple[int, int]:
    """(cursor, analyses held) after a message from the replay: a credit (analyses it took or
    dropped; 0 when more was stored), or where to go on from."""
    if isinstance(message, _SkipTo):
        return max(cursor, message.cursor), held
    return cursor, held - message


def _die_with_parent(parent: int) -> None:
    """Be killed when the replay's process dies (Linux); exit if it already has."""
    with contextlib.suppress(OSError, AttributeError):  # not Linux: the pipe's end tells
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:
        os._exit(0)


def main(argv: Sequence[str]) -> int:
    """`python -m flows.stages.ahead ORDERS_FD NEWS_FD PARENT_PID`: analyse for the replay that
    started this process."""
    _die_with_parent(int(argv[2]))
    orders = Connection(int(argv[0]), writable=False)
    news = Connection(int(argv[1]), readable=False)
    job: _Job | None = None
    try:
        job = orders.recv()
        analyse_ahead(job, orders, news)
    except EOFError:  # the replay is done with us, or gone
        return 0
    except BaseException:
        with contextlib.suppress(OSError):
            news.send(traceback.format_exc())
        return 1
    finally:
        if job is not None:
            with contextlib.suppress(Exception):  # an engine never made (a bad URL) is nothing
                engine_for(job.database_url).dispose()
    return 0


if __name__ == "__main__":
    # Run as the module `flows.stages.ahead`, not `__main__`: what it sends must unpickle in the
    # replay.
    from flows.stages import ahead

    sys.exit(ahead.main(sys.argv[1:]))
