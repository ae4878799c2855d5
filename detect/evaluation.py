"""Scoring detection against labelled articles (for `watchfloor rules test`).

A match counts as a positive only when it reports an event that happened in the article's own
news cycle: status `occurred` and not background. Labels give, per article id, the categories
that happened (an empty set for none).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field

from core.errors import ConfigError, ConfigValidationError
from core.model import Match

LABEL_HEADER = ("id", "events", "reason")
NO_EVENT = "none"


def is_positive(match: Match) -> bool:
    """Whether a match reports its event as having happened, as news."""
    return match.status == "occurred" and not match.background


def reported_categories(matches: Iterable[Match]) -> frozenset[str]:
    """The categories an article's matches report as positives."""
    return frozenset(m.category for m in matches if is_positive(m))


@dataclass(frozen=True, slots=True)
class Score:
    """Counts for one category (or all of them, micro-averaged)."""

    category: str
    true_positives: int
    false_positives: int
    false_negatives: int

    @property
    def support(self) -> int:
        """How many labelled positives there were."""
        return self.true_positives + self.false_negatives

    @property
    def precision(self) -> float:
        """Share of reported positives that were labelled (1.0 when nothing was reported)."""
        reported = self.true_positives + self.false_positives
        return self.true_positives / reported if reported else 1.0

    @property
    def recall(self) -> float:
        """Share of labelled positives that were reported (1.0 when nothing was labelled)."""
        labelled = self.true_positives + self.false_negatives
        return self.true_positives / labelled if labelled else 1.0

    @property
    def f1(self) -> float:
        """Harmonic mean of precision and recall."""
        total = self.precision + self.recall
        return 2 * self.precision * self.recall / total if total else 0.0


@dataclass(frozen=True, slots=True)
class Evaluation:
    """Per-category scores, the micro average, and each miss and false alarm (id, category),
    with the reason for each when `evaluate` made it."""

    categories: tuple[Score, ...]
    micro: Score
    misses: tuple[tuple[str, str], ...]
    false_alarms: tuple[tuple[str, str], ...]
    reasons: Mapping[tuple[str, str], str] = field(default_factory=dict)

    def table(self) -> list[str]:
        """The scores as aligned plain-text lines (category, P, R, F1, support, TP, FP, FN)."""
        lines = [
            f"{'category':<22} {'P':>5} {'R':>5} {'F1':>5} {'support':>7}  {'TP':>3}"
            f"  {'FP':>3}  {'FN':>3}"
        ]
        for s in (*self.categories, self.micro):
            lines.append(
                f"{s.category:<22} {s.precision:>5.2f} {s.recall:>5.2f} {s.f1:>5.2f}"
                f" {s.support:>7} {s.true_positives:>4} {s.false_positives:>4}"
                f" {s.false_negatives:>4}"
            )
        return lines


def score(
    predicted: Mapping[str, frozenset[str]], expected: Mapping[str, frozenset[str]]
) -> Evaluation:
    """Compare reported categories per article id with labelled ones (ids of `expected`)."""
    misses, alarms, hits = [], [], []
    for key in sorted(expected):
        got, want = predicted.get(key, frozenset()), expected[key]
        hits += [(key, c) for c in sorted(got & want)]
        misses += [(key, c) for c in sorted(want - got)]
        alarms += [(key, c) for c in sorted(got - want)]
    categories = sorted({c for _k, c in hits + misses + alarms})
    scores = tuple(
        Score(
            category,
            sum(c == category for _k, c in hits),
            sum(c == category for _k, c in alarms),
            sum(c == category for _k, c in misses),
        )
        for category in categories
    )
    micro = Score("micro", len(hits), len(alarms), len(misses))
    return Evaluation(scores, micro, tuple(misses), tuple(alarms))


def parse_labels(text: str, path: str, categories: Collection[str]) -> dict[str, frozenset[str]]:
    """Labels from TSV text with the header `id  events  reason`: events are comma-separated
    categories of `categories`, or `none`. Raises ConfigValidationError listing every bad line."""
    errors: list[ConfigError] = []
    labels: dict[str, frozenset[str]] = {}
    lines = text.splitlines()
    header = tuple(c.strip() for c in lines[0].split("\t")) if lines else ()
    if header[:2] != LABEL_HEADER[:2]:
        wanted = "\t".join(LABEL_HEADER)
        raise ConfigValidationError(
            [ConfigError(path, f"the first line must be the header {wanted!r}", 1)]
        )
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        cells = line.split("\t")
        key, events = cells[0].strip(), cells[1].strip() if len(cells) > 1 else ""
        problem = _label_problem(key, events, labels, categories)
        if problem:
            errors.append(ConfigError(path, problem, number))
            continue
        labels[key] = _events(events)
    if errors:
        raise ConfigValidationError(errors)
    return labels


def _events(cell: str) -> frozenset[str]:
    return frozenset() if cell == NO_EVENT else frozenset(e.strip() for e in cell.split(","))


def _label_problem(
    key: str, events: str, seen: Mapping[str, frozenset[str]], categories: Collection[str]
) -> str | None:
    if not key:
        return "empty id"
    if key in seen:
        return f"duplicate id {key!r}"
    if not events:
        return f"{key}: no events (give categories or {NO_EVENT!r})"
    if events == NO_EVENT:
        return None
    unknown = sorted(e for e in _events(events) if e not in categories)
    if unknown:
        known = ", ".join(sorted(categories))
        return f"{key}: unknown category {', '.join(unknown)} (known: {known}, or {NO_EVENT})"
    return None
