"""The seed acceptance table of DESIGN.md, through real Prefect flow runs on real SQLite files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from flows.replay import replay_flow
from tests.conftest import SEEDS, store_env

pytestmark = pytest.mark.usefixtures("prefect_harness")


def seed_numbers(development: dict[str, Any]) -> set[str]:
    """Which seed files (000..004) are evidence of a development."""
    return {Path(guid.split("#")[0]).name[:3] for guid in development["evidence"]}


def by_category(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    developments = report["developments"]
    categories = [d["category"] for d in developments]
    assert len(categories) == len(set(categories)), f"one development per category: {categories}"
    return {d["category"]: d for d in developments}


def replay(url: str, paths: list[str] | None = None) -> dict[str, Any]:
    with store_env(url):
        return replay_flow(paths=paths).replay_json()


def test_seed_replay_gives_the_design_table(sqlite_url: str) -> None:
    report = replay(sqlite_url)
    assert report["articles"] == 5
    found = by_category(report)
    assert set(found) == {"missile_launch", "ministerial_meeting", "summit", "military_exercise"}

    launch = found["missile_launch"]
    assert (launch["status"], launch["background"]) == ("occurred", False)
    assert launch["event_date"] == "2026-01-27"
    assert launch["facts"]["count"] == 2
    assert launch["facts"]["apogee_km"] == pytest.approx(80)
    assert launch["facts"]["range_km"] == pytest.approx(350)
    assert "North Korea" in launch["actors"]
    assert seed_numbers(launch) == {"000", "001", "004"}

    meeting = found["ministerial_meeting"]
    assert (meeting["status"], meeting["background"]) == ("occurred", False)
    assert meeting["event_date"] == "2026-01-30"
    assert meeting["place"] == "Yokosuka"
    assert {"Shinjiro Koizumi", "Ahn Gyu-back"} <= set(meeting["actors"])
    assert seed_numbers(meeting) == {"000", "001", "002", "003", "004"}

    summit = found["summit"]
    assert (summit["status"], summit["background"]) == ("occurred", True)
    assert summit["event_date"] == "2026-01-13"
    assert {"Lee Jae-myung", "Sanae Takaichi"} <= set(summit["actors"])

    exercise = found["military_exercise"]
    assert (exercise["status"], exercise["background"]) == ("planned", False)
    assert seed_numbers(exercise) == {"002", "003"}

    assert report["alerts_sent"] == 4


def test_second_replay_sends_nothing_new(sqlite_url: str) -> None:
    first = replay(sqlite_url)
    second = replay(sqlite_url)
    assert first["alerts_sent"] == 4
    assert second["alerts_sent"] == 0
    assert by_category(second).keys() == by_category(first).keys()
    assert {d["id"] for d in second["developments"]} == {d["id"] for d in first["developments"]}


def test_a_replay_leaves_no_write_ahead_log_behind(sqlite_url: str) -> None:
    replay(sqlite_url)
    database = Path(sqlite_url.removeprefix("sqlite:///"))
    wal = Path(f"{database}-wal")
    assert database.stat().st_size > 0
    assert not wal.exists() or wal.stat().st_size == 0


def test_replay_order_of_files_does_not_change_the_outcome(sqlite_url: str, tmp_path: Path) -> None:
    files = sorted(SEEDS.glob("*.txt"))
    forward = by_category(replay(sqlite_url, [str(p) for p in files]))
    backward_url = f"sqlite:///{tmp_path / 'backward.db'}"
    backward = by_category(replay(backward_url, [str(p) for p in reversed(files)]))

    def outcome(found: dict[str, dict[str, Any]]) -> dict[str, tuple[Any, ...]]:
        return {
            c: (d["status"], d["background"], d["event_date"], d["place"]) for c, d in found.items()
        }

    assert outcome(forward) == outcome(backward)
    for category in forward:
        assert seed_numbers(forward[category]) == seed_numbers(backward[category])


def test_reader_comments_are_not_evidence_or_text(sqlite_url: str) -> None:
    import sqlalchemy as sa

    replay(sqlite_url)
    engine = sa.create_engine(sqlite_url)
    with engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT guid, text FROM articles")).all()
    engine.dispose()
    assert len(rows) == 5
    commented = [text for guid, text in rows if guid.startswith("001_")]
    assert commented, "seed 001 was stored"
    assert all("Priyanka" not in text and "Reader Comments" not in text for text in commented)


def test_an_alert_shows_what_was_known_when_it_was_raised(sqlite_url: str) -> None:
    import db
    from flows.context.runtime import transaction

    replay(sqlite_url)
    with transaction(sqlite_url) as session:
        views = [v for v in db.list_alerts(session) if v.category == "ministerial_meeting"]
        alerts = db.load_alerts(session, [v.id for v in views])
    announced, held = sorted(alerts.values(), key=lambda a: a.id)
    assert (announced.kind, announced.status) == ("new", "planned")
    assert (held.kind, held.previous_status, held.status) == (
        "status_change",
        "planned",
        "occurred",
    )
    # Replay reads 001 and 004 (dated) first: the announcement alert cites the report that
    # raised it; the status change, raised by the first report of the meeting held (002),
    # cites the reports up to it, not the one replayed after it (003).
    assert len(announced.evidence) < len(held.evidence) < 5
