"""One cycle of Watchfloor, shared by the replay and monitor flows: fetch -> store -> detect ->
send -> report. The flows differ only in where their sources come from."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from prefect.utilities.annotations import quote

import db
import detect
import notify
from core.errors import ConfigError, ConfigValidationError
from core.model import FetchResult, SourceSpec, Target
from flows.report import RunReport, development_json, source_lines
from flows.runtime import transaction
from flows.settings import Settings
from flows.stages import detect_stage, fetch_stage, send_stage, store_stage


@dataclass(frozen=True, slots=True)
class RunConfig:
    """Everything a cycle needs, loaded and validated before any work starts."""

    database_url: str
    ruleset: detect.RuleSet
    targets: tuple[Target, ...]
    settings: Settings


def read_rule_documents(rules_dir: Path) -> tuple[dict[str, str], dict[str, str]]:
    """(rule files, alias files) of a rules folder as text keyed by path; detect parses them.

    Alias lists live in files named `entities*.yaml` or under an `entities/` folder.
    """
    if not rules_dir.is_dir():
        raise ConfigValidationError([ConfigError(str(rules_dir), "rules folder does not exist")])
    rules: dict[str, str] = {}
    aliases: dict[str, str] = {}
    for path in sorted(rules_dir.rglob("*.y*ml")):
        is_alias = path.name.startswith("entities") or "entities" in path.parent.parts
        (aliases if is_alias else rules)[str(path)] = path.read_text(encoding="utf-8")
    return rules, aliases


def load_ruleset(rules_dir: Path) -> detect.RuleSet:
    """The shipped (or configured) rules, validated; every error with file and line."""
    rules, aliases = read_rule_documents(rules_dir)
    return detect.load_ruleset(rules, aliases)


def load_run_config(settings: Settings) -> RunConfig:
    """Rules and subscribers, validated at start so bad config fails before any fetch."""
    ruleset = load_ruleset(settings.rules_dir)
    config = str(settings.apprise_config) if settings.apprise_config else None
    targets = notify.load_targets(config, settings.notify_urls)
    if not targets:
        targets = notify.load_targets(None, [notify.TERMINAL_URL])
    return RunConfig(settings.database_url, ruleset, tuple(targets), settings)


def batches(specs: Sequence[SourceSpec], size: int) -> list[list[SourceSpec]]:
    """Sources split into fetch batches of at most `size` (one Prefect task each)."""
    return [list(specs[i : i + size]) for i in range(0, len(specs), size)] or [[]]


def run_cycle(
    config: RunConfig, specs: Sequence[SourceSpec], *, conditional: bool = True
) -> RunReport:
    """Fetch, store, detect and send for `specs`; returns what happened.

    `conditional=False` (replay) reads every source in full, ignoring stored validators.
    """
    # quote(): Prefect otherwise walks every article inside task arguments looking for futures
    # to wire up, which cost ~20-50% of a first poll (measured on 200 feeds).
    settings = config.settings
    results: list[FetchResult] = []
    for batch in batches(specs, settings.fetch_batch_size):
        if batch:
            results.extend(
                fetch_stage(
                    config.database_url,
                    quote(batch),
                    settings.fetch_concurrency,
                    settings.fetch_per_host,
                    conditional,
                    settings.fetch_allow_networks,
                )
            )
    stored = store_stage(config.database_url, quote(specs), quote(results))
    detect_stage(
        config.database_url, quote(config.ruleset), quote(stored.new), settings.lookback_days
    )
    sent = send_stage(config.database_url, quote(config.targets), settings.delivery_max_attempts)
    refs = [(a.source, a.guid) for r in results for a in r.articles]
    with transaction(config.database_url) as session:
        views = db.developments_evidenced_by(session, refs)
    problems = [problem for r in results for problem in r.problems]
    problems += [f"{r.source}: {r.error}" for r in results if r.status == "error"]
    return RunReport(
        articles=stored.read,
        new_articles=len(stored.new),
        developments=[development_json(v) for v in views],
        alerts_sent=len(sent.alerts_sent),
        deliveries_failed=sent.failed,
        deliveries_held=sent.held,
        unrouted_alerts=sent.unrouted,
        sources=source_lines(results, {s.name: s.location for s in specs}, stored.new_per_source),
        problems=problems,
    )
