"""When an event mention lies: what its date says of its status, and whether the article
reports it as news (recent), sets it apart as context (background), or does not say
(neutral)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Literal

from core.model import Status
from detect.text.dates import DateExpr, DateSpan

Temporal = Literal["recent", "background", "neutral"]
RECENT_DAYS = 7  # an event dated more than this many days before the article is background
_BACKGROUND_CUES = ("background", "background_before", "background_after")


def status_from_date(
    expr: DateExpr, span: DateSpan | None, reference: date | None
) -> tuple[Status | None, str | None]:
    """A date that says by itself where the event lies: ahead makes it planned ("next week"),
    behind makes it occurred ("yesterday", "on January 26"); a bare weekday says neither."""
    if not expr.tense_known:
        return None, None
    if expr.ahead or (span and reference and span.start > reference):
        return "planned", f"date {expr.text!r} lies ahead"
    if (span and reference and span.end <= reference) or (span is None and expr.recent):
        return "occurred", f"date {expr.text!r} is past"
    return None, None


def temporal(
    expr: DateExpr | None,
    span: DateSpan | None,
    status: Status | None,
    reference: date | None,
    cues: Sequence[tuple[str, str]],
) -> tuple[Temporal, str]:
    """News, context or unsaid, with the reason; `cues` are (kind, text) of the mention's own
    cues. The date decides first, then a background cue, then a recent one."""
    if expr is not None and expr.vague_past and status != "planned":
        return "background", f"{expr.text!r} sets it apart from the news"
    if expr is not None and span is not None and reference is not None:
        if span.end < reference - timedelta(days=RECENT_DAYS):
            return "background", f"date {expr.text!r} is more than {RECENT_DAYS} days old"
        if span.start >= reference - timedelta(days=RECENT_DAYS):
            return "recent", f"date {expr.text!r} is recent"
    elif expr is not None and expr.recent:
        return "recent", f"{expr.text!r} places it within days"
    for kind, text in cues:
        if kind in _BACKGROUND_CUES:
            return "background", f"background cue {text!r}"
    for kind, text in cues:
        if kind == "recent":
            return "recent", f"recent cue {text!r}"
    return "neutral", "no date or background cue"
