"""Named leases in the store, held across transactions and machines."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from db._sql import insert_for
from db.engine import DETECTION_LOCK, transaction_lock
from db.models import locks
from db.types import as_utc


def acquire_lock(session: Session, name: str, holder: str, now: datetime, ttl_s: float) -> bool:
    """Take lease `name` for `holder` until now + `ttl_s`; False when another holder has it.

    The same holder acquiring again renews its lease. A lease whose holder died without releasing
    it expires after `ttl_s`, so a crash never blocks the store forever. Commit right away: the
    lease is a row, visible to other processes only once committed.
    """
    now = as_utc(now)
    row = {
        "name": name,
        "holder": holder,
        "acquired_at": now,
        "expires_at": now + timedelta(seconds=ttl_s),
    }
    inserted = session.connection().execute(
        insert_for(session, locks).on_conflict_do_nothing().returning(locks.c.name), [row]
    )
    if inserted.first() is not None:
        return True
    # Someone holds or held it: take it over only if it is ours or has expired.
    taken = session.connection().execute(
        update(locks)
        .where(locks.c.name == name)
        .where(or_(locks.c.holder == holder, locks.c.expires_at <= now))
        .values(holder=holder, acquired_at=now, expires_at=row["expires_at"])
    )
    return taken.rowcount == 1


def renew_lock(session: Session, name: str, holder: str, now: datetime, ttl_s: float) -> bool:
    """Extend `holder`'s lease `name` to now + `ttl_s`; False when it no longer holds it."""
    result = session.connection().execute(
        update(locks)
        .where(locks.c.name == name, locks.c.holder == holder)
        .values(expires_at=as_utc(now) + timedelta(seconds=ttl_s))
    )
    return result.rowcount == 1


def release_lock(session: Session, name: str, holder: str) -> None:
    """Give up lease `name` if `holder` holds it (someone else's lease is left alone)."""
    session.connection().execute(
        delete(locks).where(locks.c.name == name, locks.c.holder == holder)
    )


def lock_developments(session: Session) -> None:
    """Serialise detection across processes until this transaction ends.

    Call it first in the transaction that reads candidate developments, detects and applies the
    changes (candidate_developments and apply_changes also take it; taking it twice is fine).
    """
    transaction_lock(session, DETECTION_LOCK)


def lock_holder(session: Session, name: str) -> str | None:
    """Who holds lease `name` now (None when nobody does), expired or not."""
    query = select(locks.c.holder).where(locks.c.name == name)
    return session.execute(query).scalar_one_or_none()
