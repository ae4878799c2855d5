"""One cycle of Watchfloor, shared by the replay and monitor flows: fetch -> store -> detect ->
send -> report. The flows differ only in where their sources come from."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from prefect.utilities.annotations import quote

import db
import detect
import notify
from core.errors import ConfigError, ConfigValidationError
from core.model import SourceSpec, Target
from flows.report import RunReport, development_json, failed_json
from flows.runtime import transaction
from flows.settings import Settings
from flows.stages import FetchPolicy, detect_stage, ingest_stage, send_stage


@dataclass(frozen=True, slots=True)
class RunConfig:
    """Everything a cycle needs, loaded and validated before any work starts."""

    database_url: str
    ruleset: detect.RuleSet
    # Identifies the rules' text: articles whose analysis failed are retried under new rules.
    rules_version: str
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


def rules_version_of(documents: dict[str, str]) -> str:
    """A short digest of the rule and alias texts (names without folders, so a checkout moved
    elsewhere keeps its version)."""
    digest = hashlib.sha256()
    for path, text in sorted((Path(p).name, t) for p, t in documents.items()):
        digest.update(f"{path}\0{text}\0".encode())
    return digest.hexdigest()[:16]


def load_ruleset(rules_dir: Path) -> detect.RuleSet:
    """The shipped (or configured) rules, validated; every error with file and line."""
    return load_versioned_ruleset(rules_dir)[0]


def load_versioned_ruleset(rules_dir: Path) -> tuple[detect.RuleSet, str]:
    """The rules, validated, and their version."""
    rules, aliases = read_rule_documents(rules_dir)
    return detect.load_ruleset(rules, aliases), rules_version_of({**rules, **aliases})


def routing_vocabulary(ruleset: detect.RuleSet) -> tuple[set[str], set[str]]:
    """(categories, regions) the loaded rules can put on an alert: a subscriber tag naming
    anything else would never match, so it is refused at start."""
    categories = {rule.category for rule in ruleset.rules}
    categories |= {tag for rule in ruleset.rules for tag in rule.tags if ":" not in tag}
    regions = {tag for rule in ruleset.rules for tag in rule.tags if tag.startswith("region:")}
    return categories, regions


def load_run_config(settings: Settings) -> RunConfig:
    """Rules and subscribers, validated at start so bad config fails before any fetch."""
    ruleset, version = load_versioned_ruleset(settings.rules_dir)
    config = str(settings.apprise_config) if settings.apprise_config else None
    categories, regions = routing_vocabulary(ruleset)
    targets = notify.load_targets(
        config, settings.notify_urls, categories=categories, regions=regions
    )
    if not targets:
        targets = notify.load_targets(None, [notify.TERMINAL_URL])
    return RunConfig(settings.database_url, ruleset, version, tuple(targets), settings)


def batches(specs: Sequence[SourceSpec], size: int) -> list[list[SourceSpec]]:
    """Sources split into fetch batches of at most `size`, fetched and stored one by one."""
    return [list(specs[i : i + size]) for i in range(0, len(specs), size)]


def run_cycle(
    config: RunConfig,
    specs: Sequence[SourceSpec],
    *,
    conditional: bool = True,
    fetch_batches: Sequence[Sequence[SourceSpec]] | None = None,
) -> RunReport:
    """Fetch, store, detect and send for `specs`; returns what happened.

    `conditional=False` (replay) reads every source in full, ignoring stored validators.
    `fetch_batches` replaces the default batches of `specs` (a replay's chunks).
    """
    # quote(): Prefect otherwise walks every argument looking for futures to wire up, which
    # cost ~20-50% of a first poll (measured on 200 feeds).
    settings = config.settings
    policy = FetchPolicy(
        concurrency=settings.fetch_concurrency,
        per_host=settings.fetch_per_host,
        conditional=conditional,
        allow_networks=tuple(settings.fetch_allow_networks),
    )
    if fetch_batches is None:
        fetch_batches = batches(specs, settings.fetch_batch_size)
    locations = {s.name: s.location for s in specs}
    ingested = ingest_stage(config.database_url, quote(fetch_batches), policy, locations)
    detected = detect_stage(
        config.database_url, quote(config.ruleset), config.rules_version, settings.lookback_days
    )
    sent = send_stage(config.database_url, quote(config.targets), settings.delivery_max_attempts)
    with transaction(config.database_url) as session:
        views = db.developments_evidenced_by(session, ingested.stored.article_ids)
    stored = ingested.stored
    return RunReport(
        articles=stored.read,
        new_articles=stored.new,
        developments=[development_json(v) for v in views],
        alerts_sent=len(sent.alerts_sent),
        detected=detected.articles,
        failed_articles=[failed_json(f) for f in detected.failed],
        deliveries_failed=sent.failed,
        deliveries_held=sent.held,
        unrouted_alerts=sent.unrouted,
        sources=list(ingested.sources.values()),
        problems=ingested.problems + stored.failed,
    )
