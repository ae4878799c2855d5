"""A batch from many feeds is looked up a group of sources at a time; the same guid at two
sources is still two items, and each source's items are told apart."""

from __future__ import annotations

from dbtestkit import T0, article, spec
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from db import store_articles, stored_ids, upsert_sources
from db.articles import SOURCES_PER_QUERY
from db.models import ArticleRow

SOURCES = [f"feed{i}" for i in range(SOURCES_PER_QUERY + 9)]


def _item(source: str, n: int, text: str = "") -> object:
    """Item `n` of `source` under a guid every source shares ("item-n")."""
    return article(source, n, guid=f"item-{n}", text=text or f"{source} story {n}. " * 50)


def test_shared_guids_across_many_sources_stay_separate_items(
    sessions: sessionmaker[Session],
) -> None:
    batch = [_item(source, n) for source in SOURCES for n in range(3)]
    with sessions.begin() as session:
        ids = upsert_sources(session, [spec(name) for name in SOURCES])
        first = store_articles(session, ids, batch, T0)
        again = store_articles(session, ids, batch, T0)
        changed = store_articles(session, ids, [_item(SOURCES[-1], 1, text="Revised. " * 60)], T0)
        read = stored_ids(session, ids, [(SOURCES[0], "item-1"), (SOURCES[-1], "item-1")])
        expected = session.scalars(
            select(ArticleRow.id).where(
                ArticleRow.guid == "item-1",
                ArticleRow.source_id.in_([ids[SOURCES[0]], ids[SOURCES[-1]]]),
            )
        ).all()
    assert len(first.new) == len(batch)
    assert again.new == [] and again.duplicates == len(batch)
    assert [item.revision for item in changed.new] == [1]
    assert sorted(read) == sorted(expected) and len(read) == 3  # two revisions at the last feed
