"""The detection queue read against its plain definition, on SQLite and PostgreSQL.

An article awaits detection under rules R when it is pending, or failed under other rules (or
none recorded). `pending_detection` gives the first of them in time order, `awaiting_after` in
storing order after an id, `count_pending_detection` how many: each is checked here against
that definition over a store holding every state, ties of time, undated and unread articles.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest
from dbtestkit import T0, article, spec
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from db import (
    awaiting_after,
    count_pending_detection,
    failed_articles,
    mark_failed,
    pending_detection,
    requeue_failed,
    store_articles,
    take_awaiting,
    upsert_sources,
)
from db.models import detection_queue

RULES = "r1"
# Per article: its reading ((reference, dated); None: none recorded) and its state
# ("pending", "done", or "failed:<rules it failed with>").
Seed = dict[int, tuple[tuple[datetime, bool] | None, str]]


def _seeded(count: int) -> Seed:
    pick = random.Random(11)
    tokyo = timezone(timedelta(hours=9))
    readings: list[tuple[datetime, bool] | None] = [
        None,
        (T0, True),
        (T0, False),  # the same moment, undated: after the dated ones
        (T0.astimezone(tokyo), True),  # the same moment in another offset
        (T0 + timedelta(minutes=5), True),
        (T0 - timedelta(days=2), False),
    ]
    # "failed:": failed with no rules recorded (a store from before rules versions were kept).
    states = ["pending", "done", "failed:r1", "failed:r0", "failed:"]
    return {n: (pick.choice(readings), pick.choice(states)) for n in range(count)}


@pytest.fixture
def stored(sessions: sessionmaker[Session]) -> dict[int, tuple[int, str, str, int, tuple]]:
    """A store of 60 articles over two sources in every state: article id -> (article number,
    source, guid, source id, queue order key)."""
    seed = _seeded(60)
    # Pairs of articles share a guid at two sources: equals in time order by source.
    batch = [article("alpha" if n % 2 else "beta", n, guid=f"g{n // 2}") for n in range(60)]
    readings = {(a.source, a.guid): seed[n][0] for n, a in enumerate(batch) if seed[n][0]}
    with sessions.begin() as session:
        ids = upsert_sources(session, [spec("alpha"), spec("beta")])
        result = store_articles(session, ids, batch, T0, readings)
    by_id = {}
    for item in result.new:
        n = batch.index(item.article)
        reading = seed[n][0]
        reference, dated = reading or (None, True)
        order = (
            reference is not None,
            reference or datetime.min.replace(tzinfo=T0.tzinfo),
            not dated,
            item.article.guid,
            ids[item.article.source],
            0,
        )
        by_id[item.id] = (
            n,
            item.article.source,
            item.article.guid,
            ids[item.article.source],
            order,
        )
    with sessions.begin() as session:
        for article_id, (n, *_rest) in by_id.items():
            state = seed[n][1]
            if state == "done":
                assert take_awaiting(session, RULES, [article_id]) == {article_id}
            elif state.startswith("failed:"):
                mark_failed(session, {article_id: "boom"}, state.removeprefix("failed:"))
                if state == "failed:":
                    unversioned = detection_queue.c.article_id == article_id
                    session.execute(
                        update(detection_queue).where(unversioned).values(rules_version=None)
                    )
    return by_id


def _awaiting(stored: dict) -> set[int]:
    """The plain definition, from the states the fixture gave."""
    seed = _seeded(60)
    return {
        i for i, (n, *_rest) in stored.items() if seed[n][1] in ("pending", "failed:r0", "failed:")
    }


def test_awaiting_after_is_the_next_awaiting_ids_in_storing_order(
    stored: dict, sessions: sessionmaker[Session]
) -> None:
    awaiting = sorted(_awaiting(stored))
    assert 10 < len(awaiting) < 50  # every kind of state is there
    ids = sorted(stored)
    with sessions() as session:
        for after in [0, *ids[::7], ids[-1]]:
            for limit in (1, 3, 8, 100):
                got = [item.id for item in awaiting_after(session, RULES, after, limit)]
                assert got == [i for i in awaiting if i > after][:limit], (after, limit)


def test_pending_detection_is_the_first_awaiting_in_time_then_key_order(
    stored: dict, sessions: sessionmaker[Session]
) -> None:
    awaiting = _awaiting(stored)
    # An article without a reading sorts as the database sorts NULL: first on SQLite only.
    with sessions() as session:
        unread_first = session.get_bind().dialect.name == "sqlite"
    in_order = sorted(awaiting, key=lambda i: _with_unread(stored[i][4], unread_first))
    with sessions() as session:
        for limit in (1, 2, 5, 13, 100):
            queued = pending_detection(session, RULES, limit)
            assert [item.id for item in queued] == in_order[:limit], limit
        assert count_pending_detection(session, RULES) == len(awaiting)
        # What each queued article carries is its own: source, guid and the stored reading.
        for item in pending_detection(session, RULES, 100):
            _n, source, guid, source_id, order = stored[item.id]
            assert (item.source, item.guid, item.source_id, item.revision) == (
                source,
                guid,
                source_id,
                0,
            )
            assert (item.reference is not None, not item.dated) == (order[0], order[2])


def _with_unread(order: tuple, unread_first: bool) -> tuple:
    return (order[0] if unread_first else not order[0], *order[1:])


def test_taking_leaves_the_rest_and_requeueing_brings_failures_back(
    stored: dict, sessions: sessionmaker[Session]
) -> None:
    awaiting = _awaiting(stored)
    some = sorted(awaiting)[::2]
    with sessions.begin() as session:
        assert take_awaiting(session, RULES, [*some, *(set(stored) - awaiting)]) == set(some)
    with sessions() as session:
        assert count_pending_detection(session, RULES) == len(awaiting) - len(some)
        failed = {item.id for item in failed_articles(session)}
    seed = _seeded(60)
    assert failed == {i for i, (n, *_r) in stored.items() if seed[n][1].startswith("failed")} - set(
        some
    )
    with sessions.begin() as session:
        assert requeue_failed(session) == len(failed)
    with sessions() as session:
        left = awaiting - set(some)
        assert count_pending_detection(session, RULES) == len(left | failed)
        assert {item.id for item in awaiting_after(session, RULES, 0, 1000)} == left | failed
