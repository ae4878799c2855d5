"""The replay flow on a real PostgreSQL gives what it gives on SQLite: the seed table of
DESIGN.md, four alerts, and nothing new on a second replay."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from flows.replay import replay_flow
from tests.conftest import store_env

pytestmark = [pytest.mark.postgres, pytest.mark.usefixtures("prefect_harness")]

EXPECTED = {
    "missile_launch": ("occurred", False, "2026-01-27"),
    "ministerial_meeting": ("occurred", False, "2026-01-30"),
    "summit": ("occurred", True, "2026-01-13"),
    "military_exercise": ("planned", False, None),
}


def replay(url: str) -> dict[str, Any]:
    with store_env(url):
        return replay_flow().replay_json()


def outcome(report: dict[str, Any]) -> dict[str, tuple[Any, ...]]:
    """category -> (status, background, event date, evidence guids), comparable across stores."""
    found: dict[str, tuple[Any, ...]] = {}
    for d in report["developments"]:
        assert d["category"] not in found, f"one development per category: {d['category']}"
        found[d["category"]] = (
            d["status"],
            d["background"],
            d["event_date"],
            sorted(d["evidence"]),
        )
    return found


def table_counts(url: str) -> dict[str, int]:
    """Rows per table of the store."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            return {
                table: int(connection.scalar(sa.text(f"SELECT count(*) FROM {table}")) or 0)
                for table in ("articles", "developments", "evidence", "alerts", "deliveries")
            }
    finally:
        engine.dispose()


def test_replay_on_postgres_gives_the_seed_table_then_nothing_new(pg_url: str) -> None:
    first = replay(pg_url)
    assert first["articles"] == 5
    found = outcome(first)
    assert set(found) == set(EXPECTED)
    for category, (status, background, event_date) in EXPECTED.items():
        assert found[category][:2] == (status, background), category
        if event_date:
            assert found[category][2] == event_date, category
    assert first["alerts_sent"] == 4

    second = replay(pg_url)
    assert second["alerts_sent"] == 0
    assert outcome(second) == found
    counts = table_counts(pg_url)
    assert counts["articles"] == 5
    assert counts["developments"] == 4
    assert (
        counts["alerts"] == 4
    )  # new launch, meeting scheduled + held, exercise; summit is background


def test_postgres_and_sqlite_stores_agree(pg_url: str, sqlite_url: str) -> None:
    on_pg, on_sqlite = replay(pg_url), replay(sqlite_url)
    assert outcome(on_pg) == outcome(on_sqlite)
    assert on_pg["alerts_sent"] == on_sqlite["alerts_sent"] == 4
    pg_counts, sqlite_counts = table_counts(pg_url), table_counts(sqlite_url)
    assert pg_counts == sqlite_counts
