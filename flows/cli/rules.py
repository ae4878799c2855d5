"""`watchfloor rules ...`: check, explain and evaluate the detection rules.

`explain` reads a text given on the command line; explaining a stored article (`--article`) waits
for a db-layer function that loads one article by id.

The rule engine is imported by the commands, not here: `watchfloor --help` loads this module.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from core.errors import ConfigError, ConfigValidationError
from core.model import DetectionInput
from flows.cli.common import JsonOption, RulesOption, fail_cleanly, print_json

if TYPE_CHECKING:
    import detect
    from detect.engine.event_mentions import Mention, SentenceTrace

app = typer.Typer(help="Check, explain and evaluate detection rules.", no_args_is_help=True)
console = Console(highlight=False, soft_wrap=True)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)


def _ruleset(rules_dir: Path | None) -> detect.RuleSet:
    from flows.context.config import load_ruleset
    from flows.context.settings import load_settings

    settings = load_settings(rules_dir=rules_dir)
    return load_ruleset(settings.rules_dir, settings.cache_dir)


@contextmanager
def _config_errors() -> Iterator[None]:
    """Print every configuration error as one unwrapped `file:line: reason` line (exit 2), so
    editors and scripts can jump to them."""
    try:
        yield
    except ConfigValidationError as exc:
        for error in exc.errors:
            err_console.print(str(error), markup=False)
        err_console.print(f"{len(exc.errors)} problem(s)", markup=False)
        raise typer.Exit(2) from None
    except ConfigError as exc:
        err_console.print(str(exc), markup=False)
        raise typer.Exit(2) from None


@app.command()
@fail_cleanly
def check(rules_dir: RulesOption = None) -> None:
    """Load and validate every rule and alias file and run every rule's examples; print each
    problem as file:line: reason (exit 2), else a summary."""
    with _config_errors():
        ruleset = _ruleset(rules_dir)
    categories = sorted({rule.category for rule in ruleset.rules})
    kinds = Counter(entity.kind for entity in ruleset.entities.entities.values())
    examples = sum(len(rule.examples) for rule in ruleset.rules)
    console.print(
        f"ok: {len(ruleset.rules)} rules in {len(categories)} categories, "
        f"{len(ruleset.matcher.specs)} terms, {len(ruleset.entities.entities)} entities "
        f"({', '.join(f'{n} {kind}' for kind, n in sorted(kinds.items()))}), "
        f"{examples} examples hold"
    )
    for rule in ruleset.rules:
        console.print(
            f"  {rule.id:<22} {rule.category:<22} {rule.level:<8} "
            f"{len(rule.examples)} examples  {Path(rule.path).name}"
        )


def _published(value: str | None) -> datetime | None:
    from flows.cli.detect import parse_published

    try:
        return parse_published(value, "--published", 1)
    except ConfigError as exc:
        raise typer.BadParameter(exc.reason, param_hint="--published") from None


def _mention_json(mention: Mention) -> dict[str, Any]:
    return {
        "status": mention.status,
        "status_cue": mention.status_cue,
        "time": mention.temporal,
        "time_reason": mention.temporal_reason,
        "date": mention.span.exact if mention.span else None,
        "actors": list(mention.actors),
        "place": mention.location,
        "asserted": mention.asserted,
    }


def _trace_json(trace: SentenceTrace) -> dict[str, Any]:
    return {
        "sentence": trace.sentence,
        "text": trace.text,
        "selections": {name: list(terms) for name, terms in trace.selections.items()},
        "condition": trace.condition,
        "anchors": [
            {
                "anchor": part.anchor,
                "selections": {name: list(terms) for name, terms in part.selections.items()},
                "condition": part.condition,
                "dropped": part.blocked,
                "mention": _mention_json(part.mention) if part.mention else None,
            }
            for part in trace.partitions
        ],
    }


@app.command()
@fail_cleanly
def explain(
    rule_id: Annotated[str, typer.Argument(help="Id of the rule to explain.")],
    text: Annotated[str, typer.Option("--text", help="Article text to read.")],
    title: Annotated[str, typer.Option("--title", help="Article title.")] = "",
    published: Annotated[
        str | None,
        typer.Option("--published", help="Article date (ISO); resolves 'on Tuesday'."),
    ] = None,
    rules_dir: RulesOption = None,
    as_json: JsonOption = False,
) -> None:
    """Why a rule fires on a text or not: terms per selection, sentences, condition, status
    cue and background decision."""
    import detect
    from flows.cli.detect import match_json
    from flows.stages.report import jsonable

    reference = _published(published)
    with _config_errors():
        ruleset = _ruleset(rules_dir)
    if rule_id not in {rule.id for rule in ruleset.rules}:
        known = ", ".join(rule.id for rule in ruleset.rules)
        raise typer.BadParameter(f"no rule {rule_id!r} (rules: {known})", param_hint="RULE_ID")
    item = DetectionInput("text", title, text, reference, dated=reference is not None)
    explanation = detect.explain(ruleset, rule_id, item)
    if not as_json:
        for line in explanation.lines():
            console.print(line, markup=False)
        return
    print_json(
        jsonable(
            {
                "rule": explanation.rule_id,
                "fired": explanation.fired,
                "condition": explanation.condition,
                "sentences": [_trace_json(t) for t in explanation.sentences],
                "matches": [
                    {**match_json(m), "title": m.title, "positive": detect.is_positive(m)}
                    for m in explanation.matches
                ],
            }
        )
    )


def _score_json(s: detect.Score) -> dict[str, Any]:
    return {
        "precision": round(s.precision, 4),
        "recall": round(s.recall, 4),
        "f1": round(s.f1, 4),
        "tp": s.true_positives,
        "fp": s.false_positives,
        "fn": s.false_negatives,
    }


def _confusion_json(kind: detect.Confusion, with_ids: bool) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "labelled": list(kind.labelled),
        "reported": list(kind.reported),
        "count": kind.count,
    }
    return {**entry, "ids": list(kind.ids)} if with_ids else entry


def _evaluation_json(
    result: detect.Evaluation, languages: Mapping[str, str], scores_only: bool
) -> dict[str, Any]:
    """The report; with `scores_only`, no article id anywhere (no misses, false alarms, ids)."""

    def errors(pairs: tuple[tuple[str, str], ...]) -> list[dict[str, str]]:
        return [
            {"id": key, "category": category, "reason": result.reasons.get((key, category), "")}
            for key, category in pairs
        ]

    report: dict[str, Any] = {
        "categories": {s.category: _score_json(s) for s in result.categories},
        "micro": {
            "precision": round(result.micro.precision, 4),
            "recall": round(result.micro.recall, 4),
            "f1": round(result.micro.f1, 4),
        },
    }
    if not scores_only:
        report["misses"] = errors(result.misses)
        report["false_alarms"] = errors(result.false_alarms)
    report["languages"] = {
        g.group: {**_score_json(g.score), "articles": g.articles}
        for g in result.by_group(languages)
    }
    report["confusion"] = [_confusion_json(kind, not scores_only) for kind in result.confusion()]
    return report


def _print_scores(
    result: detect.Evaluation, languages: Mapping[str, str], scores_only: bool
) -> None:
    """The category and language tables and the confusion list (ids unless `scores_only`)."""
    import detect

    lines = [
        *result.table(),
        "",
        *detect.group_table(result.by_group(languages), "language"),
    ]
    kinds = result.confusion()
    lines += ["", f"confusion ({sum(kind.count for kind in kinds)} articles with an error):"]
    lines += [f"  {kind.line(with_ids=not scores_only)}" for kind in kinds]
    for line in lines:
        console.print(line, markup=False)


def _print_errors(result: detect.Evaluation) -> None:
    """Each miss and false alarm with its reason: reading them means reading the articles."""
    for heading, pairs in (("misses", result.misses), ("false alarms", result.false_alarms)):
        console.print(f"\n{heading} ({len(pairs)}):")
        for key, category in pairs:
            console.print(f"  {key} {category}: {result.reasons[(key, category)]}", markup=False)


def read_labels(path: Path, categories: set[str]) -> dict[str, frozenset[str]]:
    """Labels of a TSV file (`id  events  reason`); every bad line is an error with its line."""
    import detect

    if not path.is_file():
        raise ConfigError(str(path), "no such file")
    return detect.parse_labels(path.read_text(encoding="utf-8"), str(path), categories)


@app.command("test")
@fail_cleanly
def test_rules(
    articles: Annotated[
        Path, typer.Argument(help="JSON Lines: id, title, text, optional published and lang.")
    ],
    labels: Annotated[Path, typer.Option("--labels", help="TSV with header: id, events, reason.")],
    rules_dir: RulesOption = None,
    as_json: JsonOption = False,
    scores_only: Annotated[
        bool,
        typer.Option(
            "--scores-only",
            help="Only the tables and confusion counts: no article id (for a held-out test split).",
        ),
    ] = False,
) -> None:
    """Score the rules on labelled articles: per-category and per-language precision, recall and
    F1, the micro average, the confusion list, and each miss and false alarm with its reason."""
    import detect
    from flows.cli.detect import read_items

    with _config_errors():
        ruleset = _ruleset(rules_dir)
        expected = read_labels(labels, {rule.category for rule in ruleset.rules})
        if not articles.is_file():
            raise ConfigError(str(articles), "no such file")
        corpus = list(read_items(articles))
        missing = sorted(set(expected) - {article.item.key for article in corpus})
        if missing:
            shown = ", ".join(missing[:10]) + (" ..." if len(missing) > 10 else "")
            raise ConfigError(str(labels), f"labelled ids not in {articles}: {shown}")
    languages = {a.item.key: a.lang for a in corpus if a.lang is not None}
    result = detect.evaluate(ruleset, [article.item for article in corpus], expected)
    if as_json:
        print_json(_evaluation_json(result, languages, scores_only))
        return
    _print_scores(result, languages, scores_only)
    if not scores_only:
        _print_errors(result)
