"""Scoring detection against labelled articles (for `watchfloor rules test`).

A match counts as a positive only when it reports an event that happened in the article's own
news cycle: status `occurred` and not background. Labels give, per article id, the categories
that happened (an empty set for none).

Totals alone hide where the rules fail, so an evaluation also keeps what each article was labelled
with and what was reported on it: scores per group of articles (a language, say) and the kinds of
disagreement (labelled X, reported Y) come from those without detecting again.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from core.errors import ConfigError, ConfigValidationError
from core.model import Match

LABEL_HEADER = ("id", "events", "reason")
NO_EVENT = "none"
UNGROUPED = "unknown"  # the group of an article that a grouping does not name


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
class Outcome:
    """What one article was labelled with and what detection reported on it."""

    key: str
    labelled: frozenset[str]
    reported: frozenset[str]

    @property
    def wrong(self) -> bool:
        """Whether detection and the label disagree on this article."""
        return self.labelled != self.reported

    def counts(self) -> tuple[int, int, int]:
        """(true positives, false positives, false negatives) of this article."""
        return (
            len(self.labelled & self.reported),
            len(self.reported - self.labelled),
            len(self.labelled - self.reported),
        )


@dataclass(frozen=True, slots=True)
class GroupScore:
    """Micro-averaged counts over the articles of one group (e.g. one language), and how many
    articles it has: a group with few articles, or none with events, scores on little evidence."""

    group: str
    score: Score
    articles: int


@dataclass(frozen=True, slots=True)
class Confusion:
    """One kind of disagreement: the categories labelled and those reported (both sorted; empty
    for none), and the ids of the articles where it happened."""

    labelled: tuple[str, ...]
    reported: tuple[str, ...]
    ids: tuple[str, ...]

    @property
    def count(self) -> int:
        """On how many articles this disagreement happened."""
        return len(self.ids)

    def line(self, with_ids: bool = True) -> str:
        """`labelled X -> reported Y: n (ids)`; without ids for a split nobody may read."""
        line = (
            f"labelled {_categories_text(self.labelled)} -> "
            f"reported {_categories_text(self.reported)}: {self.count}"
        )
        return f"{line} ({', '.join(self.ids)})" if with_ids else line


def _categories_text(categories: tuple[str, ...]) -> str:
    return ", ".join(categories) or NO_EVENT


@dataclass(frozen=True, slots=True)
class Evaluation:
    """Per-category scores, the micro average, each miss and false alarm (id, category) with the
    reason for each when `evaluate` made it, and every article's outcome (sorted by id)."""

    categories: tuple[Score, ...]
    micro: Score
    misses: tuple[tuple[str, str], ...]
    false_alarms: tuple[tuple[str, str], ...]
    outcomes: tuple[Outcome, ...]
    reasons: Mapping[tuple[str, str], str] = field(default_factory=dict)

    def table(self) -> list[str]:
        """The scores as aligned plain-text lines (category, P, R, F1, support, TP, FP, FN)."""
        rows = [_score_row(s.category, s) for s in (*self.categories, self.micro)]
        return [_score_header("category"), *rows]

    def by_group(self, groups: Mapping[str, str]) -> tuple[GroupScore, ...]:
        """Micro scores per group of articles (`groups`: article id -> group; an article it does
        not name is in UNGROUPED), sorted by group: where the rules fail, e.g. one language."""
        members: defaultdict[str, list[Outcome]] = defaultdict(list)
        for outcome in self.outcomes:
            members[groups.get(outcome.key, UNGROUPED)].append(outcome)
        return tuple(
            GroupScore(group, _micro_score(group, members[group]), len(members[group]))
            for group in sorted(members)
        )

    def confusion(self) -> tuple[Confusion, ...]:
        """Articles with an error, grouped by (labelled, reported) categories, most frequent
        first: a rule that keeps mistaking one event for another shows as one line."""
        ids: defaultdict[tuple[tuple[str, ...], tuple[str, ...]], list[str]] = defaultdict(list)
        for outcome in self.outcomes:
            if outcome.wrong:
                ids[(tuple(sorted(outcome.labelled)), tuple(sorted(outcome.reported)))].append(
                    outcome.key
                )
        kinds = [
            Confusion(labelled, reported, tuple(keys)) for (labelled, reported), keys in ids.items()
        ]
        return tuple(sorted(kinds, key=_most_frequent_first))


def _most_frequent_first(kind: Confusion) -> tuple[int, tuple[str, ...], tuple[str, ...]]:
    return (-kind.count, kind.labelled, kind.reported)


def group_table(scores: Sequence[GroupScore], heading: str) -> list[str]:
    """Group scores as aligned plain-text lines: the columns of `Evaluation.table`, then the
    number of articles."""
    rows = [f"{_score_row(g.group, g.score)} {g.articles:>8}" for g in scores]
    return [f"{_score_header(heading)} {'articles':>8}", *rows]


def _score_header(heading: str) -> str:
    return (
        f"{heading:<22} {'P':>5} {'R':>5} {'F1':>5} {'support':>7}  {'TP':>3}  {'FP':>3}  {'FN':>3}"
    )


def _score_row(name: str, s: Score) -> str:
    return (
        f"{name:<22} {s.precision:>5.2f} {s.recall:>5.2f} {s.f1:>5.2f}"
        f" {s.support:>7} {s.true_positives:>4} {s.false_positives:>4}"
        f" {s.false_negatives:>4}"
    )


def _micro_score(name: str, outcomes: Iterable[Outcome]) -> Score:
    """Counts summed over articles, whatever their categories."""
    tp = fp = fn = 0
    for outcome in outcomes:
        hits, alarms, misses = outcome.counts()
        tp, fp, fn = tp + hits, fp + alarms, fn + misses
    return Score(name, tp, fp, fn)


def score(
    predicted: Mapping[str, frozenset[str]], expected: Mapping[str, frozenset[str]]
) -> Evaluation:
    """Compare reported categories per article id with labelled ones (ids of `expected`)."""
    outcomes = tuple(
        Outcome(key, expected[key], predicted.get(key, frozenset())) for key in sorted(expected)
    )
    misses, alarms, hits = [], [], []
    for o in outcomes:
        hits += [(o.key, c) for c in sorted(o.labelled & o.reported)]
        misses += [(o.key, c) for c in sorted(o.labelled - o.reported)]
        alarms += [(o.key, c) for c in sorted(o.reported - o.labelled)]
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
    return Evaluation(scores, micro, tuple(misses), tuple(alarms), outcomes)


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
