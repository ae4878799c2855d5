"""Compiled rules kept on disk between processes.

Why: compiling and checking the rules (the alias automaton, every rule's conditions, every
rule's examples run through detection) costs ~0.5 CPU-s, and every process that detects paid it
at its start: each `watchfloor run` from cron, each `replay` and `detect`. Reading a compiled
ruleset back from its pickle takes ~0.05 s. `serve` keeps its rules in memory between cycles
(`flows.context.config`) and gains only at its start.

A ruleset read here is always the one compiling would give: its file is named by a digest of
what compiling reads (the rule and alias texts with their paths, which its messages name) and
of what the result depends on (the sources of `detect` and `core`, Python's version, the
pyahocorasick extension's file). A file that cannot be read or unpickled is compiled again and
replaced; a folder that cannot be written keeps nothing, and the run goes on. Files are written
whole (a temporary file, then renamed), so a process never reads half of one. Unpickling runs
code: only files owned by this user and writable by no one else are read, in a folder created
private (0700). The newest KEEP_FILES are kept; older ones are removed when a new one is written,
with any temporary file a process killed while writing left behind (older than STALE_S).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import logging
import os
import pickle
import stat
import sys
import tempfile
import time
from pathlib import Path

import ahocorasick

import detect

log = logging.getLogger(__name__)

PREFIX = "rules-"
SUFFIX = ".pickle"
TEMPORARY_PREFIX = ".rules-"
# A temporary file this old was left by a process killed while writing (a write takes ~0.1 s).
STALE_S = 3600.0
# Compiled rulesets kept (~1 MB each): the current rules, and a few earlier versions a checkout
# switches back to.
KEEP_FILES = 8
# What a cached file holds: the ruleset and its rules version.
Cached = tuple[detect.RuleSet, str]


@functools.cache
def code_digest() -> str:
    """A digest of the code a compiled ruleset depends on (`sources_digest` of this checkout),
    Python's version and the automaton extension's file."""
    digest = hashlib.sha256(sys.version.encode())
    digest.update(Path(ahocorasick.__file__ or "").read_bytes())
    digest.update(sources_digest(Path(detect.__file__).resolve().parent.parent).encode())
    return digest.hexdigest()


def sources_digest(root: Path) -> str:
    """A digest of the sources of `detect` and `core` under `root` (~45 files, ~3 ms to read):
    their classes and functions are what a pickled ruleset is made of and run by."""
    digest = hashlib.sha256()
    for package in ("detect", "core"):
        for path in sorted((root / package).rglob("*.py")):
            digest.update(str(path.relative_to(root)).encode())
            digest.update(b"\0")
            digest.update(path.read_bytes())
    return digest.hexdigest()


def cache_file(cache_dir: Path, documents_digest: str) -> Path:
    """Where the ruleset compiled from documents of `documents_digest` is kept."""
    key = hashlib.sha256(f"{documents_digest}\0{code_digest()}".encode()).hexdigest()[:32]
    return cache_dir / f"{PREFIX}{key}{SUFFIX}"


def read(path: Path) -> Cached | None:
    """The ruleset kept at `path`, or None when there is none, it is not private to this user,
    or it cannot be read back whole."""
    try:
        with path.open("rb") as file:
            if not _private(os.fstat(file.fileno())):
                log.warning("kept rules not read: %s is not private to this user", path)
                return None
            value = pickle.load(file)
    except FileNotFoundError:
        return None
    except Exception as exc:  # truncated, from another version, unreadable: compile again
        log.info("kept rules not read from %s: %s", path, exc)
        return None
    if not (
        isinstance(value, tuple)
        and len(value) == 2
        and isinstance(value[0], detect.RuleSet)
        and isinstance(value[1], str)
    ):
        return None
    return value


def write(path: Path, value: Cached) -> None:
    """Keep `value` at `path` (whole or not at all), then drop all but the newest KEEP_FILES.
    A folder that cannot be made or written, or a ruleset that cannot be pickled, keeps
    nothing: the next process compiles again; the run goes on either way."""
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(prefix=TEMPORARY_PREFIX, dir=path.parent)  # mode 0600
        temporary = Path(name)
        try:
            with os.fdopen(handle, "wb") as file:
                pickle.dump(value, file, protocol=pickle.HIGHEST_PROTOCOL)
            temporary.replace(path)
        except BaseException:
            with contextlib.suppress(OSError):
                temporary.unlink()
            raise
    except Exception as exc:  # a cache never stops a run
        log.info("rules not kept in %s: %s", path.parent, exc)
        return
    _prune(path.parent)


def _private(info: os.stat_result) -> bool:
    """A regular file of this user's that no one else can write."""
    owner_ok = not hasattr(os, "geteuid") or info.st_uid == os.geteuid()
    return stat.S_ISREG(info.st_mode) and owner_ok and not info.st_mode & 0o022


def _prune(cache_dir: Path) -> None:
    """Remove all but the newest KEEP_FILES compiled rulesets, and stale temporary files."""
    kept: list[tuple[float, Path]] = []
    for path in cache_dir.glob(f"{PREFIX}*{SUFFIX}"):
        with contextlib.suppress(OSError):
            kept.append((path.stat().st_mtime, path))
    stale = time.time() - STALE_S
    for path in cache_dir.glob(f"{TEMPORARY_PREFIX}*"):
        with contextlib.suppress(OSError):
            if path.stat().st_mtime < stale:
                path.unlink()
    for _, path in sorted(kept, reverse=True)[KEEP_FILES:]:
        with contextlib.suppress(OSError):
            path.unlink()
