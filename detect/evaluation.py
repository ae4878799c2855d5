"""Scoring detection against labelled articles (for `watchfloor rules test`).

A match counts as a positive only when it reports an event that happened in the article's own
news cycle: status `occurred` and not background. Labels give, per article id, the categories
that happened (an empty set for none).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from core.model import Match


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
    """Per-category scores, the micro average, and each miss and false alarm (id, category)."""

    categories: tuple[Score, ...]
    micro: Score
    misses: tuple[tuple[str, str], ...]
    false_alarms: tuple[tuple[str, str], ...]


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
