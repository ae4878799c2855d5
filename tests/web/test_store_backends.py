"""The console's queries on both stores: JSON regions and actors matched as text, wildcards taken
literally, per-day counts, on SQLite and on a real PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from db import (
    DevelopmentQuery,
    browse_developments,
    create_engine_for,
    daily_counts,
    make_sessionmaker,
)
from tests.web.manystore import SPREAD_DAYS, fill


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest) -> str:
    name = "sqlite_url" if request.param == "sqlite" else "pg_url"
    url: str = request.getfixturevalue(name)
    fill(url, 40)
    return url


def _ids(url: str, **filters: object) -> list[int]:
    engine = create_engine_for(url)
    try:
        with make_sessionmaker(engine).begin() as session:
            page = browse_developments(session, DevelopmentQuery(**filters))  # type: ignore[arg-type]
            return [view.id for view in page.developments]
    finally:
        engine.dispose()


def test_filters_agree_on_both_stores(store: str) -> None:
    assert _ids(store) == list(range(40, 0, -1))
    korea = _ids(store, region="korea")  # numbers 0 and 3 of every 4 (ids 1, 4, 5, 8, ...)
    assert sorted(korea) == [n + 1 for n in range(40) if n % 4 in (0, 3)]
    assert _ids(store, region="kor") == []  # a whole region name, not a part of one
    assert _ids(store, text="actor 7") == [38, 8]  # actors are "Actor {n % 30}"
    assert _ids(store, text="event 1 (") == [2]
    # LIKE's wildcards are taken literally: "a_tor" would otherwise match every "Actor".
    assert _ids(store, text="a_tor") == [] and _ids(store, text="%") == []
    assert len(_ids(store, text="_launch")) == 10
    assert _ids(store, outlet="outlet-3") == [n + 1 for n in range(39, -1, -1) if n % 7 == 3]
    assert _ids(store, category="summit", status="occurred", level="high") == [
        n + 1 for n in range(39, -1, -1) if n % 4 == 2
    ]


def test_daily_counts_cover_every_development(store: str) -> None:
    engine = create_engine_for(store)
    try:
        with make_sessionmaker(engine).begin() as session:
            since = datetime.now(UTC) - timedelta(days=SPREAD_DAYS + 1)
            counts = daily_counts(session, since)
    finally:
        engine.dispose()
    assert sum(n for _, _, n in counts) == 40
    assert {category for _, category, _ in counts} == {
        "missile_launch",
        "military_exercise",
        "summit",
        "sanctions",
    }
