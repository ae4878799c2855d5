"""Helpers of the end-to-end alert tests (tests/flows/test_alerts_*.py).

Subscriber URLs carry credentials of the WFSECRET family only (tests/secret_audit.py greps the
whole session for it): a Basic-auth password and a path token on the webhook, a custom header.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email.header import decode_header, make_header
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from core.model import Article, Development, DevelopmentChange, Level, Match, NewRef, SourceSpec
from tests.notify.notifykit import MAIL_QUERY
from tests.notify.receivers import HttpReceiver, SmtpReceiver

WEBHOOK_PASSWORD = "WFSECRETpw7"
WEBHOOK_PATH_TOKEN = "WFSECRETpath8x"
WEBHOOK_HEADER = "WFSECREThdr9"

# The 4 alerts of DESIGN.md's acceptance table, by the start of their titles.
SEED_ALERTS = [
    "[MILITARY EXERCISE] planned:",
    "[MINISTERIAL MEETING] planned -> occurred:",
    "[MINISTERIAL MEETING] planned:",
    "[MISSILE LAUNCH] occurred:",
]
_PREFIX = re.compile(r"^\[[A-Z ]+\] [a-z]+(?: -> [a-z]+)?:")

T0 = datetime(2026, 1, 28, 10, 5, tzinfo=UTC)


def prefix(title: str) -> str:
    """`[CATEGORY] status:` of an alert title (the headline itself is detect's business)."""
    match = _PREFIX.match(title)
    assert match, title
    return match.group(0)


def hook_url(port: int, name: str = "hook") -> str:
    """A json:// subscriber on the local HTTP receiver, with credentials of the secret family."""
    return (
        f"json://wfuser:{WEBHOOK_PASSWORD}@127.0.0.1:{port}/{name}/{WEBHOOK_PATH_TOKEN}"
        f"?+X-Token={WEBHOOK_HEADER}&cto=2&rto=4"
    )


def mail_url(port: int) -> str:
    """A mailto:// subscriber on the local SMTP receiver (no login: aiosmtpd offers no TLS)."""
    return f"mailto://127.0.0.1:{port}?{MAIL_QUERY}"


def write_subscribers(folder: Path, entries: Iterable[tuple[str, str]]) -> str:
    """An Apprise YAML file of (url, comma-separated tags) entries; returns its path."""
    lines = ["version: 1", "urls:"]
    for url, tags in entries:
        if tags:
            lines += [f'  - "{url}":', f"      tag: {tags}"]
        else:
            lines.append(f'  - "{url}"')
    path = folder / "subscribers.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def titles(receiver: HttpReceiver, name: str | None = None) -> list[str]:
    """Sorted title prefixes of the JSON posts a receiver got (on one subscriber path)."""
    return sorted(
        prefix(r.json()["title"])
        for r in receiver.received
        if name is None or r.path.startswith(f"/{name}/")
    )


def subjects(receiver: SmtpReceiver) -> list[str]:
    """Sorted subject prefixes of the emails received."""
    return sorted(prefix(subject(m)) for m in receiver.messages)


def subject(message: Message) -> str:
    """An email's subject, RFC 2047 encoded words decoded (titles hold dashes, quotes ...)."""
    return str(make_header(decode_header(str(message["Subject"]))))


@dataclass
class Clock:
    """The wall clock of flows (flows.context.clock.utcnow), set by the test."""

    now: datetime = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now

    def set(self, moment: datetime) -> datetime:
        self.now = moment
        return moment


def install_clock(monkeypatch: pytest.MonkeyPatch, start: datetime = T0) -> Clock:
    """Make every stage of a flow run (store, detect, send) read `Clock`."""
    clock = Clock(start)
    monkeypatch.setattr("flows.context.clock.utcnow", clock)
    return clock


def deliveries(database_url: str) -> list[dict[str, Any]]:
    """Every delivery row with its alert's category (plain SQL: what is really stored)."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT d.*, v.category, a.kind FROM deliveries d "
                    "JOIN alerts a ON a.id = d.alert_id "
                    "JOIN developments v ON v.id = a.development_id ORDER BY d.id"
                )
            )
            return [dict(row._mapping) for row in rows]
    finally:
        engine.dispose()


def seed_alerts(
    database_url: str,
    levels: Sequence[Level],
    *,
    category: str = "missile_launch",
    created_at: datetime = T0,
) -> list[int]:
    """One development with one new alert per level given (no replay, no rules); alert ids."""
    import db
    from flows.context.runtime import transaction

    with transaction(database_url) as session:
        offset = len(db.list_alerts(session))
        source_ids = db.upsert_sources(
            session, [SourceSpec(name="wire", kind="rss", location="https://wire.example/feed")]
        )
        batch = [_article(offset + n) for n in range(len(levels))]
        stored = db.store_articles(session, source_ids, batch, created_at)
        keys = {item.article.guid: item.id for item in stored.new}
        changes = [
            _change(offset + n, article.guid, level, category)
            for n, (article, level) in enumerate(zip(batch, levels, strict=True))
        ]
        return db.apply_changes(session, changes, keys, created_at)


def _article(n: int) -> Article:
    return Article(
        source="wire",
        guid=f"wire-{n}",
        title=f"Launch report {n}",
        text=f"Report {n}: North Korea fired a ballistic missile, number {n}.",
        url=f"https://wire.example/news/{n}",
        published=T0,
    )


def _change(n: int, guid: str, level: Level, category: str) -> DevelopmentChange:
    title = f"Launch {n} ({level})"
    match = Match(
        article_key=guid,
        rule_id="missile_launch",
        category=category,
        status="occurred",
        background=False,
        event_date=date(2026, 1, 27),
        place="Pyongyang",
        actors=("North Korea",),
        facts={"count": n},
        terms=("fired",),
        snippet="North Korea fired a ballistic missile",
        level=level,
        tags=("region:east-asia",),
        title=title,
    )
    development = Development(
        category=category,
        status="occurred",
        background=False,
        title=title,
        event_date=date(2026, 1, 27),
        place="Pyongyang",
        actors=("North Korea",),
        facts={"count": n},
        level=level,
        tags=("region:east-asia",),
    )
    return DevelopmentChange(
        ref=NewRef(n),
        development=development,
        evidence=(match,),
        is_new=True,
        previous_status=None,
        alert="new",
    )
