"""The five seed articles as detection inputs, and a stand-in for the store (pure, no adapter)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import detect
from core.model import DetectionInput, Development, DevelopmentChange, StoredRef

SEEDS = Path(__file__).resolve().parents[2] / "seeds"
REFERENCE = datetime(2026, 1, 28, 9, 0, tzinfo=timezone(timedelta(hours=9)))
DATED = {
    "001",
    "004",
}  # dateline "Tokyo, Jan 28" / header "date 2026-01-28"; the rest: replay clock
ORDER = ("001", "004", "000", "002", "003")


def seed_body(number: str) -> str:
    """A seed's text without what the adapter strips: 001's reader comments, 004's header."""
    path = next(SEEDS.glob(f"{number}_*.txt"))
    text = path.read_text(encoding="utf-8")
    if number == "001":
        text = text[: text.index("\nReader Comments")]
    if number == "004":
        text = text.replace(" date 2026-01-28", "", 1)
    return text


def seed_comments() -> str:
    """The reader-comments tail of seed 001."""
    text = next(SEEDS.glob("001_*.txt")).read_text(encoding="utf-8")
    return text[text.index("\nReader Comments") :]


def seed_input(number: str) -> DetectionInput:
    """A seed as detection sees it: first line as title, the rest as text."""
    lines = seed_body(number).strip().split("\n", 1)
    return DetectionInput(
        key=number,
        title=lines[0].strip(),
        text=lines[1] if len(lines) > 1 else "",
        reference=REFERENCE,
        dated=number in DATED,
    )


@dataclass
class Store:
    """What the db layer does with development changes, reduced to a dict."""

    developments: dict[int, Development] = field(default_factory=dict)
    evidence: dict[int, list[str]] = field(default_factory=dict)
    alerts: list[tuple[int, str]] = field(default_factory=list)
    changes: list[DevelopmentChange] = field(default_factory=list)

    def apply(self, changes: Sequence[DevelopmentChange]) -> None:
        """Store a batch of changes, giving ids to new developments."""
        ids: dict[str, int] = {}
        for change in changes:
            self.changes.append(change)
            if isinstance(change.ref, StoredRef):
                dev_id = change.ref.id
            else:
                dev_id = ids.setdefault(change.ref, len(self.developments) + 1)
            self.developments[dev_id] = replace(change.development, id=dev_id)
            self.evidence.setdefault(dev_id, []).extend(m.article_key for m in change.evidence)
            if change.alert:
                self.alerts.append((dev_id, change.alert))

    def of(self, category: str) -> list[Development]:
        """Stored developments of one category."""
        return [d for d in self.developments.values() if d.category == category]


def replay(ruleset: detect.RuleSet, order: Sequence[str] = ORDER) -> Store:
    """Feed the seeds one article per batch through detect + assign, like the flow does."""
    store = Store()
    for number in order:
        matches = detect.detect(ruleset, seed_input(number))
        store.apply(detect.assign(matches, list(store.developments.values())))
    return store
