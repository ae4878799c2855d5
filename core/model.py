"""The nouns of Watchfloor, passed between layers.

Flow of one run: SourceSpec -> (adapter) FetchResult[Article] -> (db) stored Articles ->
(detect) Match -> (detect) DevelopmentChange -> (db) Development + Alert (outbox) ->
(notify) DeliveryOutcome per Target -> (db) delivery ledger.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal, get_args

from core.cursor import Cursor
from core.text import content_hash

Status = Literal["planned", "occurred", "cancelled"]
STATUSES: tuple[Status, ...] = get_args(Status)

Level = Literal["low", "medium", "high", "critical"]
LEVELS: tuple[Level, ...] = get_args(Level)

AlertKind = Literal["new", "status_change"]

FetchStatus = Literal["ok", "not_modified", "unchanged", "error"]


def status_rank(status: Status) -> int:
    """Rank of a status: a development only moves up (planned -> occurred | cancelled)."""
    return 0 if status == "planned" else 1


def advance_status(current: Status, seen: Status) -> Status:
    """The status after evidence `seen` arrives for a development at `current`; never moves back."""
    return seen if status_rank(seen) > status_rank(current) else current


def level_rank(level: Level) -> int:
    """Position of a level in low < medium < high < critical."""
    return LEVELS.index(level)


REGION_PREFIX = "region:"


def tag_regions(tags: Iterable[str]) -> tuple[str, ...]:
    """The regions that `region:<name>` tags (of a source, say) name, lower case, in order."""
    found: dict[str, None] = {}
    for tag in tags:
        text = tag.strip().casefold()
        name = text.removeprefix(REGION_PREFIX).strip()
        if text.startswith(REGION_PREFIX) and name:
            found[name] = None
    return tuple(found)


def merge_regions(*groups: Iterable[str]) -> tuple[str, ...]:
    """The union of region names, sorted: a development's regions do not depend on the order
    its reports came in."""
    return tuple(sorted({region for group in groups for region in group}))


# --- sources -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SourceSpec:
    """One configured source. `location` is a URL for feeds, a file or folder for seedfiles."""

    name: str
    kind: str
    location: str
    tags: tuple[str, ...] = ()
    poll_interval_s: int = 600
    headers: Mapping[str, str] = field(default_factory=dict)
    options: Mapping[str, Any] = field(default_factory=dict)
    # The publisher's time zone (IANA name): times the source gives in UTC or without a zone
    # are read in it, so "on the 1st" or "on Tuesday" resolves on the publisher's calendar.
    timezone: str | None = None
    # The longest the source's own freshness hint may stretch its interval; None: twice it.
    max_poll_interval_s: int | None = None

    def poll_interval_after(self, fresh_for_s: float | None) -> int:
        """Seconds from a successful fetch to the next poll: the configured interval, longer
        when the source said its answer stays fresh longer (RSS ttl, Cache-Control, Expires),
        but never beyond `max_poll_interval_s`. A hint never makes a source polled sooner:
        the interval is what the user asked for."""
        ceiling = max(self.poll_interval_s, self.max_poll_interval_s or 2 * self.poll_interval_s)
        if fresh_for_s is None or not fresh_for_s > self.poll_interval_s:
            return self.poll_interval_s
        return int(min(fresh_for_s, ceiling))


@dataclass(frozen=True, slots=True)
class SourceState:
    """What the store remembers of a source between runs and hands to its kind's `fetch`.

    `cursor` is the kind's own memory of the source (`core.cursor`): opaque to the store and
    the flows, which keep it as the kind last returned it. Health (failures, next poll) is the
    store's and is not here: a kind never needs it to fetch.
    """

    cursor: Cursor = field(default_factory=Cursor)


@dataclass(frozen=True, slots=True)
class Article:
    """One item as read from a source. `published` is timezone-aware, or None when unknown."""

    source: str
    guid: str
    title: str
    text: str
    url: str | None = None
    published: datetime | None = None
    raw: Mapping[str, Any] = field(default_factory=dict)

    @property
    def content_hash(self) -> str:
        """Hash of title + text, used to find the same story under another guid or URL."""
        return content_hash(self.title, self.text)


@dataclass(frozen=True, slots=True)
class FetchResult:
    """What one fetch of one source produced. Errors are data here, recorded on the source."""

    source: str
    status: FetchStatus
    articles: tuple[Article, ...] = ()
    http_status: int | None = None
    error: str | None = None
    transient: bool = False
    retry_after_s: float | None = None
    # The kind's new cursor for the source, or None to keep the stored one (an error keeps
    # it: the next poll repeats the same request). Only a successful fetch moves it.
    cursor: Cursor | None = None
    problems: tuple[str, ...] = ()
    # How long the source says this answer stays fresh (see `SourceSpec.poll_interval_after`):
    # a generic scheduling hint the flows read. What the kind needs to say it again later (a
    # feed's TTL, stated in a body a 304 does not repeat) is its own memory, in its cursor.
    fresh_for_s: float | None = None


# --- detection ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DetectionInput:
    """An article as detection sees it. `reference` is "now" for the article (its publication
    time, or the replay clock when unknown); `dated` says whether it is the article's own date."""

    key: str
    title: str
    text: str
    reference: datetime | None
    dated: bool = True


@dataclass(frozen=True, slots=True)
class Match:
    """One rule firing on one article: a report of one event."""

    article_key: str
    rule_id: str
    category: str
    status: Status
    background: bool
    event_date: date | None
    place: str | None
    actors: tuple[str, ...]
    facts: Mapping[str, Any]
    terms: tuple[str, ...]
    snippet: str
    level: Level
    tags: tuple[str, ...]
    title: str
    # Where the event is, by the regions of its actors and places (rules/entities.yaml).
    regions: tuple[str, ...] = ()


@dataclass(slots=True)
class Development:
    """One real-world event, built from the matches of many articles. `id` is None until stored."""

    category: str
    status: Status
    background: bool
    title: str
    event_date: date | None
    place: str | None
    actors: tuple[str, ...]
    facts: dict[str, Any]
    level: Level
    tags: tuple[str, ...]
    id: int | None = None
    # Sorted; from its matches (actors and places) and, once stored, its sources' region tags.
    regions: tuple[str, ...] = ()


@dataclass(slots=True, kw_only=True)
class DevelopmentView(Development):
    """A stored development as the CLI, reports, web pages and feeds show it: the development,
    the guids of its evidence articles, when it was first and last seen, and an analyst's
    verdict. Not frozen only because a dataclass cannot freeze what its base leaves mutable."""

    # Stored, so it has one (a Development has none until stored).
    id: int
    evidence: list[str]
    first_seen: datetime
    last_seen: datetime
    # An analyst's verdict (None, "false_alarm" or "merged") and a merge's target.
    dismissed_as: str | None = None
    merged_into: int | None = None


@dataclass(frozen=True, slots=True)
class StoredRef:
    """A development already in the store, by its id."""

    id: int


@dataclass(frozen=True, slots=True)
class NewRef:
    """A development one batch of changes creates, numbered in the order the batch creates them:
    not stored yet, so its later changes in the same batch name it by this number."""

    number: int


# Which development a change is about, within one batch of changes.
DevelopmentRef = StoredRef | NewRef


@dataclass(frozen=True, slots=True)
class DevelopmentChange:
    """One transition of one development caused by one article's matches, in article order.

    `ref` names the development within the batch: a `StoredRef` for a stored one, a `NewRef` for
    one created in this batch, so several transitions of a not-yet-stored development link up.
    `development` is a snapshot after the transition. `alert` says which alert it raises: "new"
    for a development that is news (not background) for the first time, "status_change" when
    its status moved forward, else None.
    """

    ref: DevelopmentRef
    development: Development
    evidence: tuple[Match, ...]
    is_new: bool
    previous_status: Status | None
    alert: AlertKind | None


# --- alerting ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EvidenceRef:
    """One article behind a development, as an alert shows it."""

    source: str
    title: str
    url: str | None
    published: datetime | None = None


@dataclass(frozen=True, slots=True)
class Alert:
    """One message-worthy change of one development (a row of the outbox)."""

    id: int
    development_id: int
    kind: AlertKind
    category: str
    status: Status
    previous_status: Status | None
    title: str
    event_date: date | None
    place: str | None
    actors: tuple[str, ...]
    facts: Mapping[str, Any]
    level: Level
    tags: tuple[str, ...]
    rule_id: str
    terms: tuple[str, ...]
    evidence: tuple[EvidenceRef, ...]
    created_at: datetime
    # The development's regions when the alert was raised: what `region:<name>` tags route on.
    regions: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Target:
    """One subscriber endpoint. `url` is secret; `key` (a hash) and `display` (Apprise's privacy
    form) are safe to store, log and print."""

    key: str
    url: str = field(repr=False)
    display: str
    tags: frozenset[str] = frozenset()
    # A folder of the user's message templates, overriding the shipped ones by file name
    # (notify/templates/alert.txt.j2, ...); None: the shipped ones.
    templates: str | None = None


@dataclass(frozen=True, slots=True)
class DeliveryOutcome:
    """The result of sending one alert to one target. `error` never contains a secret."""

    alert_id: int
    target_key: str
    ok: bool
    error: str | None = None
