"""Detection's pure work on queued articles: each one's matches, or why its analysis raised.

No Prefect, no store, no clock: the detect stage (`flows.stages.tasks`) and the process that
analyses ahead of it (`flows.stages.ahead`) both read an article through here, so both find the
same.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import db
import detect
from core.model import DetectionInput, Match
from flows.stages.errorline import describe

# An article's analysis: its matches, or the error its analysis raised (type and message).
Found = list[Match] | str


class AnalysedAhead(Protocol):
    """Analyses made before the detect stage reached their articles (`flows.stages.ahead`)."""

    def take(self, queued: Sequence[db.QueuedArticle]) -> Mapping[int, Found]:
        """The analyses of those of `queued` read exactly as they are now, by store id."""
        ...


@dataclass(frozen=True, slots=True)
class Analysis:
    """What detection found in a chunk of queued articles, before anything is written."""

    queued: Sequence[db.QueuedArticle]
    matches: list[Match]
    errors: dict[int, str]  # store id -> why its analysis raised


def detection_input(item: db.QueuedArticle) -> DetectionInput:
    """A queued article as detection reads it (its key is its store id)."""
    return DetectionInput(
        key=str(item.id),
        title=item.title,
        text=item.text,
        reference=item.reference,
        dated=item.dated,
    )


def analyse_item(ruleset: detect.RuleSet, item: db.QueuedArticle) -> Found:
    """One article's matches, or the error its analysis raised: one article's failure never
    costs the others, it is recorded in the article's queue row."""
    try:
        return detect.detect(ruleset, detection_input(item))
    except Exception as exc:  # any bug on any text: record it in the queue, go on
        return describe(exc)


def analysed(
    ruleset: detect.RuleSet,
    queued: Sequence[db.QueuedArticle],
    ahead: AnalysedAhead | None = None,
) -> Analysis:
    """`queued` run through detection (pure work: no store, no lock), taking what `ahead`
    already analysed; matches come in the order of `queued` either way."""
    found = ahead.take(queued) if ahead is not None else {}
    matches: list[Match] = []
    errors: dict[int, str] = {}
    for item in queued:
        result = found[item.id] if item.id in found else analyse_item(ruleset, item)
        if isinstance(result, str):
            errors[item.id] = result
        else:
            matches += result
    return Analysis(queued, matches, errors)
