"""Rules and subscribers, loaded and validated once per process and again only when they change.

Compiling the rules costs seconds on a loaded machine (the alias automaton, every rule's
conditions), and a command used to pay it twice: once to fail fast on bad configuration
before Prefect starts, once inside the flow. Here each load is kept with a digest of what it
was built from: the rule files' paths and texts, and for subscribers the Apprise file's bytes,
the extra URLs, the rules' vocabulary and the environment (`${NAME}` credentials). Reading
those inputs is cheap next to compiling them, so a changed file (even one edited within the
same second at the same size) is always noticed, and an unchanged one is never compiled
again. Each real compilation says so in one INFO line ("compiled N rules ...").

Apprise (`notify`) is imported only when subscribers are loaded: `watchfloor detect` and
`rules` never pay for it.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import detect
from core.errors import ConfigError, ConfigValidationError
from flows.context import rulecache

if TYPE_CHECKING:
    from flows.context.settings import Settings
    from notify import Subscribers

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RunConfig:
    """Everything a cycle needs, loaded and validated before any work starts."""

    database_url: str
    ruleset: detect.RuleSet
    # Identifies the rules' text: articles whose analysis failed are retried under new rules.
    rules_version: str
    # The subscribers and the Apprise services they are sent through, loaded for this run.
    subscribers: Subscribers
    settings: Settings


@dataclass(frozen=True, slots=True)
class _Loaded:
    """The last thing loaded of one kind, and the digest of the inputs it was built from."""

    digest: str
    value: object


_lock = threading.Lock()
_last: dict[str, _Loaded] = {}


def _remembered(kind: str, digest: str) -> object | None:
    with _lock:
        loaded = _last.get(kind)
    return loaded.value if loaded is not None and loaded.digest == digest else None


def _remember(kind: str, digest: str, value: object) -> None:
    with _lock:
        _last[kind] = _Loaded(digest, value)


def _digest(*parts: object) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(repr(part).encode("utf-8", "surrogatepass"))
        digest.update(b"\0")
    return digest.hexdigest()


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


def load_ruleset(rules_dir: Path, cache_dir: Path | None = None) -> detect.RuleSet:
    """The shipped (or configured) rules, validated; every error with file and line."""
    return load_versioned_ruleset(rules_dir, cache_dir)[0]


def load_versioned_ruleset(
    rules_dir: Path, cache_dir: Path | None = None
) -> tuple[detect.RuleSet, str]:
    """The rules, validated, and their version; compiled only when their files changed since
    the last load in this process (paths and texts compared, not timestamps), and, with a
    `cache_dir`, since any process last compiled them there (`flows.context.rulecache`)."""
    rules, aliases = read_rule_documents(rules_dir)
    digest = _digest(sorted(rules.items()), sorted(aliases.items()))
    known = _remembered("rules", digest)
    if known is not None:
        return known  # type: ignore[return-value]
    kept = rulecache.cache_file(cache_dir, digest) if cache_dir is not None else None
    loaded = rulecache.read(kept) if kept is not None else None
    if loaded is not None:
        log.info(
            "read %d compiled rules from %s (version %s)", len(loaded[0].rules), kept, loaded[1]
        )
    else:
        loaded = detect.load_ruleset(rules, aliases), rules_version_of({**rules, **aliases})
        log.info(
            "compiled %d rules from %s (version %s)", len(loaded[0].rules), rules_dir, loaded[1]
        )
        if kept is not None:
            rulecache.write(kept, loaded)
    _remember("rules", digest, loaded)
    return loaded


def routing_vocabulary(ruleset: detect.RuleSet) -> tuple[set[str], set[str]]:
    """(categories, regions) the loaded rules can put on an alert: a subscriber tag naming
    anything else would never match, so it is refused at start. Regions are those of the rules'
    tags (`region:east-asia`) and those some entity carries (rules/entities.yaml)."""
    categories = {rule.category for rule in ruleset.rules}
    categories |= {tag for rule in ruleset.rules for tag in rule.tags if ":" not in tag}
    regions = {tag for rule in ruleset.rules for tag in rule.tags if tag.startswith("region:")}
    regions |= {f"region:{region}" for region in ruleset.entities.carried_regions()}
    return categories, regions


def region_names(ruleset: detect.RuleSet) -> frozenset[str]:
    """The regions a `region:<name>` tag may name (`korea`, `east-asia`, ...): a source or a
    subscriber tagged with any other would place or select nothing."""
    return frozenset(tag.removeprefix("region:") for tag in routing_vocabulary(ruleset)[1])


def load_targets(
    config_path: Path | None,
    urls: Sequence[str],
    categories: Collection[str],
    regions: Collection[str],
    templates_dir: Path | None = None,
) -> Subscribers:
    """Subscribers of the Apprise file and `urls`, validated against the rules' vocabulary,
    each rendering with the templates of `templates_dir` (checked here, every time: a template
    edited since the last load must not break a send); loaded again only when one of those, or
    the environment, changed. With none configured, the terminal prints the alerts."""
    content = _file_bytes(config_path)
    environment = sorted(os.environ.items())
    digest = _digest(
        str(config_path),
        content,
        list(urls),
        sorted(categories),
        sorted(regions),
        environment,
        str(templates_dir),
    )
    import notify  # Apprise: ~1 s to import, only for commands that send

    if templates_dir is not None:
        notify.check_templates(str(templates_dir))
    known = _remembered("targets", digest)
    if known is not None:
        return known  # type: ignore[return-value]
    path = str(config_path) if config_path else None
    subscribers = notify.load_targets(path, urls, categories=categories, regions=regions)
    if not subscribers:
        subscribers = notify.load_targets(None, [notify.TERMINAL_URL])
    log.info("loaded %d subscribers", len(subscribers))
    loaded = with_templates(subscribers, templates_dir)
    _remember("targets", digest, loaded)
    return loaded


def with_templates(subscribers: Subscribers, templates_dir: Path | None) -> Subscribers:
    """The subscribers, each rendering its messages with the templates of `templates_dir` (the
    shipped ones where it has none, or when it is None)."""
    return subscribers.with_templates(str(templates_dir) if templates_dir is not None else None)


def _file_bytes(path: Path | None) -> bytes | None:
    """The file's bytes for the digest; None when there is none or it cannot be read (loading
    it then reports why)."""
    if path is None:
        return None
    try:
        return path.read_bytes()
    except OSError:
        return None


def load_run_config(settings: Settings) -> RunConfig:
    """Rules and subscribers, validated at start so bad config fails before any fetch."""
    ruleset, version = load_versioned_ruleset(settings.rules_dir, settings.cache_dir)
    categories, regions = routing_vocabulary(ruleset)
    subscribers = load_targets(
        settings.apprise_config,
        settings.notify_urls,
        categories,
        regions,
        settings.templates_dir,
    )
    return RunConfig(settings.database_url, ruleset, version, subscribers, settings)
