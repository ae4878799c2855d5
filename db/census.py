"""Counts of what the store holds, read in a few aggregate queries (the web console's metrics).

Developments are counted live (as the console lists them) or by what an analyst dismissed them
as. Alerts are counted by the one word `watchfloor alerts list` gives each: unrouted (matched no
subscriber), queued (not routed yet), failed (a delivery failed), pending (a delivery still to
send), withdrawn (its development was dismissed before every delivery was sent) or sent;
deliveries by their own state.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Exists, case, exists, func, select
from sqlalchemy.orm import Session

from db.articles import count_articles
from db.models import DELIVERY_STATES, alerts, deliveries, developments, sources

ALERT_STATES = ("unrouted", "queued", "failed", "pending", "withdrawn", "sent")


@dataclass(frozen=True, slots=True)
class StoreCensus:
    """How many rows of each kind the store holds, split the way an operator watches them."""

    developments: dict[tuple[str, str], int]  # live: (category, status) -> count
    dismissed: dict[tuple[str, str], int]  # (category, dismissed_as) -> count
    articles: int
    alerts: dict[str, int]  # alert state -> count
    deliveries: dict[str, int]  # delivery state -> count
    sources: int


def store_census(session: Session) -> StoreCensus:
    """The store's counts now; every alert and delivery state is present, with 0 when none."""
    live = session.execute(
        select(developments.c.category, developments.c.status, func.count())
        .where(developments.c.dismissed_as.is_(None))
        .group_by(developments.c.category, developments.c.status)
    )
    dismissed = session.execute(
        select(developments.c.category, developments.c.dismissed_as, func.count())
        .where(developments.c.dismissed_as.is_not(None))
        .group_by(developments.c.category, developments.c.dismissed_as)
    )
    by_delivery_state = session.execute(
        select(deliveries.c.state, func.count()).group_by(deliveries.c.state)
    )
    return StoreCensus(
        developments={(category, status): n for category, status, n in live},
        dismissed={(category, reason): n for category, reason, n in dismissed},
        articles=count_articles(session),
        alerts=_alerts_by_state(session),
        deliveries=dict.fromkeys(DELIVERY_STATES, 0) | dict(by_delivery_state.tuples().all()),
        sources=session.scalar(select(func.count()).select_from(sources)) or 0,
    )


def _alerts_by_state(session: Session) -> dict[str, int]:
    def having(*states: str) -> Exists:
        return exists().where(deliveries.c.alert_id == alerts.c.id, deliveries.c.state.in_(states))

    # The same precedence as `alerts list`: a failed delivery outweighs one still pending.
    state = case(
        (alerts.c.unrouted.is_(True), "unrouted"),
        (alerts.c.routed_at.is_(None), "queued"),
        (having("failed"), "failed"),
        (having("pending", "sending"), "pending"),
        (having("withdrawn"), "withdrawn"),
        # Routed with no delivery and not unrouted: dismissed before it was ever routed.
        (~exists().where(deliveries.c.alert_id == alerts.c.id), "withdrawn"),
        else_="sent",
    ).label("state")
    query = select(state, func.count()).select_from(alerts).group_by(state)
    return dict.fromkeys(ALERT_STATES, 0) | dict(session.execute(query).tuples().all())
