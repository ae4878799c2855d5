"""Near-duplicate lookup stays bounded when many stored rows share a SimHash band value, and
still links the true near-duplicate through the bands it does not share with the crowd."""

from __future__ import annotations

from dbtestkit import T0, article, spec
from sqlalchemy import insert, select
from sqlalchemy.orm import Session, sessionmaker

from core.text import simhash, simhash_bands, simhash_distance
from db import store_articles, upsert_sources
from db.articles import MAX_BAND_CANDIDATES, _near_duplicate_candidates
from db.models import ArticleRow, articles

TEXT = " ".join(
    f"Wire story sentence {i} about the border talks and the missile." for i in range(12)
)
CROWD = MAX_BAND_CANDIDATES + 150


def _signed(value: int) -> int:
    value &= (1 << 64) - 1
    return value - (1 << 64) if value >= 1 << 63 else value


def _row(source_id: int, guid: str, value: int) -> dict:
    """A stored article row carrying SimHash `value` (its text is irrelevant to the lookup)."""
    bands = simhash_bands(value)
    return {
        "source_id": source_id,
        "guid": guid,
        "title": guid,
        "text": guid,
        "fetched_at": T0,
        "content_hash": guid,
        "raw": {},
        "simhash": value,
        **{f"simhash_band{i}": band for i, band in enumerate(bands)},
    }


def _crowd_member(value: int, n: int) -> int:
    """Same band 0 as `value`, every other band far from it (not a near-duplicate)."""
    return _signed(value ^ ((0xFFFF ^ (n % 0xFFFF)) << 16) ^ (0xF0F0 << 32) ^ (0x0F0F << 48))


def test_a_crowded_band_is_read_capped_and_the_true_copy_is_still_linked(
    sessions: sessionmaker[Session],
) -> None:
    value = simhash(TEXT)
    assert value is not None
    # A near-duplicate differing in two bits of band 0 and one of band 1: it shares bands 2
    # and 3 with the new article, and is stored after the crowd (beyond band 0's cap).
    near = _signed(value ^ 0b11 ^ (1 << 20))
    assert simhash_distance(value, near) == 3
    with sessions.begin() as session:
        ids = upsert_sources(session, [spec("boiler"), spec("wire"), spec("outlet")])
        crowd = [_row(ids["boiler"], f"b{n}", _crowd_member(value, n)) for n in range(CROWD)]
        session.execute(insert(articles), crowd)
        session.execute(insert(articles), [_row(ids["wire"], "w1", near)])
        band0 = simhash_bands(value)[0]
        candidates = _near_duplicate_candidates(session, [value], {})
        assert len(candidates[(0, band0)]) == MAX_BAND_CANDIDATES
        assert sum(len(rows) for rows in candidates.values()) <= 4 * MAX_BAND_CANDIDATES
        result = store_articles(session, ids, [article("outlet", 1, text=TEXT)], T0)
        [stored] = result.new
        linked_to = session.scalar(
            select(ArticleRow.duplicate_of_id).where(ArticleRow.id == stored.id)
        )
        near_id = session.scalar(select(ArticleRow.id).where(ArticleRow.guid == "w1"))
    assert result.linked == 1
    assert linked_to == near_id


def test_many_copies_of_one_text_link_to_the_earliest(sessions: sessionmaker[Session]) -> None:
    value = simhash(TEXT)
    assert value is not None
    with sessions.begin() as session:
        ids = upsert_sources(session, [spec("boiler"), spec("outlet")])
        session.execute(
            insert(articles), [_row(ids["boiler"], f"b{n}", value) for n in range(CROWD)]
        )
        first = session.scalar(select(ArticleRow.id).where(ArticleRow.guid == "b0"))
        candidates = _near_duplicate_candidates(session, [value], {})
        assert all(len(rows) == MAX_BAND_CANDIDATES for rows in candidates.values())
        [stored] = store_articles(session, ids, [article("outlet", 1, text=TEXT)], T0).new
        linked_to = session.scalar(
            select(ArticleRow.duplicate_of_id).where(ArticleRow.id == stored.id)
        )
    assert linked_to == first
