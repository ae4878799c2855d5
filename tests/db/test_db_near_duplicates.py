"""Near-duplicate wire copies (SimHash) are linked, not lost; unrelated stories stay apart."""

from __future__ import annotations

from dbtestkit import T0, article, spec
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.text import simhash, simhash_distance
from db import store_articles, upsert_sources
from db.models import ArticleRow

WIRE = (
    "Japanese Defence Minister Shinjiro Koizumi will hold talks with his South Korean "
    "counterpart Ahn Gyu Back in Yokosuka on Friday, local media reported, citing the ministry. "
    "During the meeting, Koizumi is expected to strengthen personal ties with Ahn Gyu Back, "
    "showcasing the need for bilateral cooperation to tackle threats posed by North Korea's "
    "missile and nuclear programme and other challenges. South Korea's Defence Ministry stated "
    "that the meeting will be held at the Yokosuka base of the Maritime Self-Defence Force, "
    "Japan's Kyodo News reported. On Tuesday, the Japanese government lodged a strong protest "
    "after North Korea launched two ballistic missiles towards the Sea of Japan. Japan's "
    "Defence Ministry stated that one of the missiles rose to an altitude of around 80 "
    "kilometres and flew about 350 kilometres. South Korea's Joint Chiefs of Staff said that the "
    "military spotted the missiles launched from a region in northern Pyongyang at around 3:50 "
    "pm (local time) on Tuesday. According to a Japanese government official, the missiles seem "
    "to have fallen outside Japan's Exclusive Economic Zone (EEZ), Kyodo News reported. Japan "
    "condemned North Korea for its ballistic missile launch. So far, no damage has been "
    "reported from the missile launch."
)
COPY = "Tokyo, Jan 28 (IANS) " + WIRE + " --IANS akl/sd"
OTHER = (
    "Taiwan's defence ministry said it tracked 24 Chinese military aircraft and nine navy "
    "vessels around the island in the 24 hours to 6 a.m. on Thursday, and that 17 of the "
    "aircraft crossed the median line of the Taiwan Strait into its air defence identification "
    "zone, part of what Taipei calls grey-zone pressure by Beijing, which claims the island as "
    "its own territory and has stepped up drills near it over the past year."
)


def test_the_two_texts_are_near_not_equal() -> None:
    a, b, c = simhash(WIRE), simhash(COPY), simhash(OTHER)
    assert a is not None and b is not None and c is not None
    assert a != b
    assert simhash_distance(a, b) <= 3 < simhash_distance(a, c)


def test_wire_copy_at_another_outlet_is_stored_and_linked(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as session:
        ids = upsert_sources(session, [spec("yonhap"), spec("ians")])
        first = store_articles(session, ids, [article("yonhap", 1, text=WIRE)], T0)
        second = store_articles(
            session,
            ids,
            [article("ians", 2, text=COPY), article("ians", 3, text=OTHER)],
            T0,
        )
        rows = {row.guid: row.duplicate_of_id for row in session.scalars(select(ArticleRow)).all()}
    original = first.new[0].id
    assert len(second.new) == 2, "near-duplicates are stored, not dropped"
    assert second.linked == 1
    copy_guid, other_guid = (s.article.guid for s in second.new)
    assert rows[copy_guid] == original
    assert rows[other_guid] is None


def test_short_texts_are_never_linked_by_simhash(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        ids = upsert_sources(session, [spec("a"), spec("b")])
        store_articles(session, ids, [article("a", 1, text="Missile launched.")], T0)
        result = store_articles(session, ids, [article("b", 2, text="Missile launched today.")], T0)
    assert result.linked == 0
