"""Named leases (one monitor run at a time) and the detection lock."""

from __future__ import annotations

from dbtestkit import T0, at
from sqlalchemy.orm import Session, sessionmaker

from db import acquire_lock, lock_developments, release_lock, renew_lock


def test_a_lease_has_one_holder_until_released_or_expired(
    sessions: sessionmaker[Session],
) -> None:
    def acquire(holder: str, now: object) -> bool:
        with sessions.begin() as session:
            return acquire_lock(session, "monitor", holder, now, ttl_s=60)  # type: ignore[arg-type]

    assert acquire("a", T0)
    assert not acquire("b", at(30))
    assert acquire("a", at(30))  # the holder renews by acquiring again
    assert not acquire("b", at(89))
    with sessions.begin() as session:
        release_lock(session, "monitor", "b")  # not b's to release: nothing happens
    assert not acquire("b", at(89))
    assert acquire("b", at(90))  # a's lease ran out (a crashed): b takes over
    with sessions.begin() as session:
        assert not renew_lock(session, "monitor", "a", at(91), 60)
        assert renew_lock(session, "monitor", "b", at(91), 60)
        release_lock(session, "monitor", "b")
    assert acquire("a", at(92))
    assert acquire("c", at(92)) is False
    with sessions.begin() as session:
        assert acquire_lock(session, "other", "c", at(92), 60)  # leases are per name


def test_detection_lock_can_be_taken_more_than_once(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        lock_developments(session)
        lock_developments(session)
