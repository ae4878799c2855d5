"""Rules and subscribers are compiled once per process and again only when their files change,
observed through the INFO lines flows.context.config emits when it really compiles or loads them.

The cycles are real monitor flow runs in one process, as a long-lived process runs them: an
unchanged rules folder is not compiled again, an edited one is, at the very next cycle.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from flows.context.config import load_run_config, load_versioned_ruleset
from flows.context.settings import load_settings
from tests.adapters.feedserver import FeedServer
from tests.adapters.monitorkit import Src, run_monitor, write_sources
from tests.conftest import RULES, store_env


@pytest.fixture
def rules(tmp_path: Path) -> Path:
    """A private copy of the shipped rules, free to edit."""
    folder = tmp_path / "rules"
    shutil.copytree(RULES, folder)
    return folder


def compilations(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.getMessage().startswith("compiled ")]


def subscriber_loads(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.getMessage().startswith("loaded ")]


def watch(caplog: pytest.LogCaptureFixture) -> None:
    """Capture flows.context.config's INFO lines from now on (called in the test itself: a level set
    in a fixture applies to the set-up phase's capture only)."""
    caplog.set_level(logging.INFO, logger="flows.context.config")


def test_unchanged_rules_are_not_compiled_again(
    rules: Path, caplog: pytest.LogCaptureFixture
) -> None:
    watch(caplog)
    first, version = load_versioned_ruleset(rules)
    assert len(compilations(caplog)) == 1
    # Touched (a new modification time) but the same text: nothing to compile.
    summit = rules / "summit.yaml"
    os.utime(summit, ns=(summit.stat().st_atime_ns, summit.stat().st_mtime_ns + 10**9))
    again, same = load_versioned_ruleset(rules)
    assert again is first
    assert same == version
    assert len(compilations(caplog)) == 1


def test_an_edit_of_the_same_size_in_the_same_instant_is_seen(
    rules: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Texts are compared, not timestamps: an edit that keeps size and mtime still counts."""
    watch(caplog)
    _, version = load_versioned_ruleset(rules)
    summit = rules / "summit.yaml"
    stat = summit.stat()
    text = summit.read_text(encoding="utf-8")
    summit.write_text(text.replace("level: medium", "level: high  "), encoding="utf-8")
    assert summit.stat().st_size == stat.st_size
    os.utime(summit, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    ruleset, edited = load_versioned_ruleset(rules)
    assert edited != version
    assert next(rule for rule in ruleset.rules if rule.id == "summit").level == "high"
    assert len(compilations(caplog)) == 2


def test_bad_rules_fail_every_time_until_fixed(
    rules: Path, caplog: pytest.LogCaptureFixture
) -> None:
    watch(caplog)
    from core.errors import ConfigValidationError

    load_versioned_ruleset(rules)
    good = (rules / "summit.yaml").read_text(encoding="utf-8")
    (rules / "summit.yaml").write_text(good.replace("level: medium", "level: 7"), "utf-8")
    for _ in range(2):  # a failure is never remembered as a success
        with pytest.raises(ConfigValidationError):
            load_versioned_ruleset(rules)
    (rules / "summit.yaml").write_text(good, encoding="utf-8")
    load_versioned_ruleset(rules)
    assert len(compilations(caplog)) == 1  # the good text again: compiled before


def test_one_command_compiles_rules_and_loads_subscribers_once(
    rules: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What `watchfloor run` does: validate before Prefect starts, then load in the flow."""
    watch(caplog)
    monkeypatch.setenv("WATCHFLOOR_NOTIFY_URLS", '["json://127.0.0.1:9/hook"]')
    settings = load_settings(rules_dir=rules)
    before = load_run_config(settings)
    inside = load_run_config(load_settings(rules_dir=rules))
    assert inside.ruleset is before.ruleset
    assert inside.subscribers is before.subscribers
    assert len(compilations(caplog)) == 1
    assert len(subscriber_loads(caplog)) == 1


@pytest.fixture(scope="module")
def server() -> Iterator[FeedServer]:
    feeds = FeedServer().start()
    yield feeds
    feeds.close()


@pytest.mark.usefixtures("prefect_harness")
def test_cycles_recompile_only_after_a_rule_edit(
    rules: Path,
    server: FeedServer,
    sqlite_url: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    watch(caplog)
    monkeypatch.setenv("WATCHFLOOR_NOTIFY_URLS", "[]")
    sources = write_sources(
        tmp_path / "sources.yaml", server, [Src("Peninsula Desk", "/feed/rss2_korea.xml")]
    )
    parameters = {"sources_file": str(sources), "rules_dir": str(rules), "all_sources": True}
    with store_env(sqlite_url):
        run_monitor(**parameters)
        run_monitor(**parameters)
        assert len(compilations(caplog)) == 1, "an unchanged rules folder was compiled again"
        assert len(subscriber_loads(caplog)) == 1

        (rules / "nuclear_test.yaml").unlink()
        run_monitor(**parameters)
        compiled = compilations(caplog)
        assert len(compiled) == 2, "the edit did not take effect at the next cycle"
        first_count, second_count = (int(line.split()[1]) for line in compiled)
        assert second_count == first_count - 1  # the edit took effect: one rule fewer
        # Categories changed, so subscribers are checked again against the new rules.
        assert len(subscriber_loads(caplog)) == 2

        run_monitor(**parameters)
        assert len(compilations(caplog)) == 2
