"""Retention: keep the store from growing forever without losing what alerts were based on."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, exists, null, or_, update
from sqlalchemy.orm import Session

from db.models import articles, evidence
from db.types import as_utc


@dataclass(frozen=True, slots=True)
class PurgeResult:
    """What one purge removed."""

    bodies_cleared: int
    articles_deleted: int


def purge(session: Session, older_than: datetime, delete_articles: bool = False) -> PurgeResult:
    """Remove article bodies (and optionally articles) fetched before `older_than`.

    Bodies: `text` and `raw` become NULL; guid, title, URL, dates and content hash stay, so
    duplicates are still recognised and alerts still show their sources. With `delete_articles`,
    old articles that are NOT evidence of any development are deleted too (copies pointing at
    them lose their `duplicate_of_id` link); evidence articles are always kept, as metadata, so
    developments, their evidence and the alert and delivery history stay intact and readable.
    """
    cutoff = as_utc(older_than)
    old = articles.c.fetched_at < cutoff
    cleared = session.connection().execute(
        update(articles)
        .where(old, or_(articles.c.text.is_not(None), articles.c.raw.is_not(None)))
        .values(text=None, raw=null())
    )
    deleted = 0
    if delete_articles:
        is_evidence = exists().where(evidence.c.article_id == articles.c.id)
        result = session.connection().execute(delete(articles).where(old, ~is_evidence))
        deleted = int(result.rowcount or 0)
    return PurgeResult(bodies_cleared=int(cleared.rowcount or 0), articles_deleted=deleted)
