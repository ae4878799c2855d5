"""Compiled rules kept on disk between processes (flows.context.rulecache): a process whose rules
did not change reads them back instead of compiling them, and what it reads detects exactly as
a fresh compilation; anything doubtful (a damaged file, one others may write, other rules or
other code) is compiled again. The last test runs the installed command twice."""

from __future__ import annotations

import json
import logging
import os
import pickle
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import pytest

import detect
from core.model import DetectionInput
from flows.context import config, rulecache
from flows.context.config import load_versioned_ruleset
from flows.context.settings import user_cache_dir
from tests.conftest import RULES

LAUNCH = DetectionInput(
    key="a1",
    title="North Korea fires ballistic missile",
    text="North Korea fired a ballistic missile into the East Sea on Tuesday, "
    "South Korea's Joint Chiefs of Staff said.",
    reference=None,
    dated=False,
)


@pytest.fixture
def rules(tmp_path: Path) -> Path:
    folder = tmp_path / "rules"
    shutil.copytree(RULES, folder)
    return folder


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    return tmp_path / "cache"


@pytest.fixture
def new_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each load as a new process makes it: nothing remembered in memory."""
    monkeypatch.setattr(config, "_last", {})


def messages(caplog: pytest.LogCaptureFixture, start: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.getMessage().startswith(start)]


def load_as_a_new_process(rules: Path, cache: Path | None) -> tuple[detect.RuleSet, str]:
    config._last.clear()
    return load_versioned_ruleset(rules, cache)


def kept_files(cache: Path) -> list[Path]:
    return sorted(cache.glob("rules-*.pickle"))


@pytest.mark.usefixtures("new_process")
def test_unchanged_rules_are_read_back_and_detect_as_compiled(
    rules: Path, cache: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="flows.context.config")
    compiled, version = load_as_a_new_process(rules, cache)
    assert len(messages(caplog, "compiled ")) == 1
    assert len(kept_files(cache)) == 1
    read, same = load_as_a_new_process(rules, cache)
    assert len(messages(caplog, "compiled ")) == 1, "unchanged rules were compiled again"
    assert len(messages(caplog, "read ")) == 1
    assert read is not compiled
    assert same == version
    assert detect.detect(read, LAUNCH) == detect.detect(compiled, LAUNCH) != []


@pytest.mark.usefixtures("new_process")
def test_edited_rules_are_compiled_and_both_versions_kept(rules: Path, cache: Path) -> None:
    _, version = load_as_a_new_process(rules, cache)
    summit = rules / "summit.yaml"
    summit.write_text(summit.read_text("utf-8").replace("level: medium", "level: high"), "utf-8")
    ruleset, edited = load_as_a_new_process(rules, cache)
    assert edited != version
    assert next(rule for rule in ruleset.rules if rule.id == "summit").level == "high"
    assert len(kept_files(cache)) == 2


@pytest.mark.usefixtures("new_process")
def test_other_code_does_not_read_what_this_code_compiled(
    rules: Path, cache: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="flows.context.config")
    load_as_a_new_process(rules, cache)
    monkeypatch.setattr(rulecache, "code_digest", lambda: "another detect")
    load_as_a_new_process(rules, cache)
    assert len(messages(caplog, "compiled ")) == 2
    assert len(kept_files(cache)) == 2


def test_the_code_digest_follows_every_detect_and_core_source(tmp_path: Path) -> None:
    root = Path(detect.__file__).resolve().parent.parent
    for package in ("detect", "core"):
        shutil.copytree(root / package, tmp_path / package)
    digest = rulecache.sources_digest(tmp_path)
    assert digest == rulecache.sources_digest(root)
    for edited in ("detect/engine/assign.py", "core/model.py", "detect/text/dates.py"):
        path = tmp_path / edited
        path.write_text(path.read_text("utf-8") + "\n# edited\n", "utf-8")
        assert rulecache.sources_digest(tmp_path) != digest, edited
        digest = rulecache.sources_digest(tmp_path)


@pytest.mark.usefixtures("new_process")
@pytest.mark.parametrize(
    "spoil",
    [lambda whole: whole[: len(whole) // 2], lambda _: pickle.dumps("a string")],
    ids=["truncated", "something else"],
)
def test_a_file_without_a_ruleset_is_compiled_again_and_replaced(
    rules: Path, cache: Path, caplog: pytest.LogCaptureFixture, spoil: Callable[[bytes], bytes]
) -> None:
    caplog.set_level(logging.INFO, logger="flows.context.config")
    load_as_a_new_process(rules, cache)
    (kept,) = kept_files(cache)
    kept.write_bytes(spoil(kept.read_bytes()))
    load_as_a_new_process(rules, cache)
    assert len(messages(caplog, "compiled ")) == 2
    load_as_a_new_process(rules, cache)
    assert len(messages(caplog, "compiled ")) == 2, "the replaced file was not read"


@pytest.mark.usefixtures("new_process")
def test_a_file_others_may_write_is_not_read(
    rules: Path, cache: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    load_as_a_new_process(rules, cache)
    (kept,) = kept_files(cache)
    assert kept.stat().st_mode & 0o777 == 0o600
    assert cache.stat().st_mode & 0o777 == 0o700
    kept.chmod(0o666)
    load_as_a_new_process(rules, cache)
    assert len(messages(caplog, "compiled ")) == 2
    assert any("not private to this user" in m for m in messages(caplog, "kept rules not"))


@pytest.mark.usefixtures("new_process")
def test_a_cache_that_cannot_be_written_keeps_nothing_and_the_load_goes_on(
    rules: Path, tmp_path: Path
) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    ruleset, _ = load_as_a_new_process(rules, blocked / "cache")
    assert detect.detect(ruleset, LAUNCH)
    ruleset, _ = load_as_a_new_process(rules, blocked / "cache")
    assert detect.detect(ruleset, LAUNCH)


@pytest.mark.usefixtures("new_process")
def test_no_cache_folder_keeps_nothing(rules: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="flows.context.config")
    load_as_a_new_process(rules, None)
    load_as_a_new_process(rules, None)
    assert len(messages(caplog, "compiled ")) == 2


def test_only_the_newest_files_are_kept(cache: Path) -> None:
    cache.mkdir(mode=0o700)
    for number in range(rulecache.KEEP_FILES + 3):
        old = cache / f"rules-old{number:02d}.pickle"
        old.write_bytes(b"")
        os.utime(old, (1_000_000 + number, 1_000_000 + number))
    ruleset = detect.load_ruleset(*config.read_rule_documents(RULES))
    newest = cache / "rules-new.pickle"
    rulecache.write(newest, (ruleset, "v1"))
    kept = {path.name for path in kept_files(cache)}
    assert len(kept) == rulecache.KEEP_FILES
    assert "rules-new.pickle" in kept
    assert "rules-old00.pickle" not in kept
    assert f"rules-old{rulecache.KEEP_FILES + 2:02d}.pickle" in kept
    assert rulecache.read(newest) is not None


def test_what_a_process_killed_while_writing_left_is_removed_once_stale(cache: Path) -> None:
    """A write is a temporary file renamed into place: a kill -9 before the rename leaves the
    temporary file, which the next write removes once no live writer can own it."""
    cache.mkdir(mode=0o700)
    left = cache / ".rules-killed"
    left.write_bytes(b"half a pickle")
    old = time.time() - rulecache.STALE_S - 60
    os.utime(left, (old, old))
    writing = cache / ".rules-being-written"  # another process's, still writing
    writing.write_bytes(b"")
    ruleset = detect.load_ruleset(*config.read_rule_documents(RULES))
    rulecache.write(cache / "rules-new.pickle", (ruleset, "v1"))
    assert not left.exists()
    assert writing.exists()
    assert rulecache.read(cache / "rules-new.pickle") is not None


def test_a_ruleset_that_cannot_be_pickled_keeps_nothing_and_the_run_goes_on(cache: Path) -> None:
    unpicklable = cast(Any, (lambda: None, "v1"))
    rulecache.write(cache / "rules-x.pickle", unpicklable)
    assert list(cache.iterdir()) == []  # no ruleset, no temporary file


def test_the_default_folder_needs_an_absolute_home(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setenv("HOME", "/home/analyst")
    assert user_cache_dir() == Path("/home/analyst/.cache/watchfloor")
    monkeypatch.setenv("XDG_CACHE_HOME", "/var/cache/analyst")
    assert user_cache_dir() == Path("/var/cache/analyst/watchfloor")
    monkeypatch.setenv("XDG_CACHE_HOME", "relative")  # not absolute: ignored, as XDG says
    assert user_cache_dir() == Path("/home/analyst/.cache/watchfloor")
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", "relative/home")  # the cache would move with the working folder
    assert user_cache_dir() is None


def _detect_command(records: Path, cache: Path, rules: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WATCHFLOOR_")}
    env |= {"WATCHFLOOR_CACHE_DIR": str(cache), "WATCHFLOOR_RULES_DIR": str(rules)}
    command = str(Path(sys.executable).parent / "watchfloor")
    return subprocess.run(
        [command, "detect", "--json", str(records)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.slow
def test_the_command_keeps_its_compiled_rules_for_the_next_one(
    rules: Path, cache: Path, tmp_path: Path
) -> None:
    records = tmp_path / "in.jsonl"
    record = {"id": "a1", "title": LAUNCH.title, "text": LAUNCH.text, "published": "2026-01-27"}
    records.write_text(json.dumps(record) + "\n", encoding="utf-8")
    first = _detect_command(records, cache, rules)
    assert first.returncode == 0, first.stderr[-2000:]
    (kept,) = kept_files(cache)
    written = kept.stat().st_mtime_ns
    second = _detect_command(records, cache, rules)
    assert second.returncode == 0, second.stderr[-2000:]
    assert second.stdout == first.stdout
    assert "missile_launch" in first.stdout
    assert kept_files(cache) == [kept]
    assert kept.stat().st_mtime_ns == written, "the second command compiled and wrote again"
