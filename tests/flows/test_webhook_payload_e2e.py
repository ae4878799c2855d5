"""JSON webhooks and user templates end to end: real replay flow runs of the seeds, a real
SQLite file, a real HTTP receiver; and the installed CLI refusing a broken template at start."""

from __future__ import annotations

from pathlib import Path

import pytest

from flows.replay import replay_flow
from tests.conftest import SEEDS, store_env
from tests.flows.test_cli import watchfloor
from tests.notify.alertkit import hook_url, write_subscribers
from tests.notify.receivers import HttpReceiver

pytestmark = pytest.mark.usefixtures("prefect_harness")


def test_the_seed_alerts_arrive_as_structured_payloads(
    sqlite_url: str, tmp_path: Path, http: HttpReceiver
) -> None:
    config = write_subscribers(tmp_path, [(hook_url(http.port), "")])
    with store_env(sqlite_url):
        report = replay_flow(apprise_config=config)
    assert report.alerts_sent == 4
    payloads = {(p["category"], p["status"]): p for p in (r.json() for r in http.received)}
    assert sorted(payloads) == [
        ("military_exercise", "planned"),
        ("ministerial_meeting", "occurred"),
        ("ministerial_meeting", "planned"),
        ("missile_launch", "occurred"),
    ]
    assert {p["watchfloor"] for p in payloads.values()} == {1}
    assert len({p["alert_id"] for p in payloads.values()}) == 4

    launch = payloads[("missile_launch", "occurred")]
    assert (launch["change"], launch["level"], launch["event_date"]) == (
        "new",
        "high",
        "2026-01-27",
    )
    assert {"japan", "korea", "north-korea"} <= set(launch["regions"])
    assert "North Korea" in launch["actors"]
    assert launch["facts"]["count"] == 2
    # The evidence the development had when the alert was raised: the first report of it, a
    # seed file (replayed under the source "replay", dated by its dateline, without a link).
    (first,) = launch["evidence"]
    assert (first["outlet"], first["url"]) == ("replay", None)
    assert first["title"] and first["published"].startswith("2026-01-28")

    held = payloads[("ministerial_meeting", "occurred")]
    planned = payloads[("ministerial_meeting", "planned")]
    assert (held["change"], held["previous_status"]) == ("status_change", "planned")
    assert held["development_id"] == planned["development_id"]
    assert held["event_date"] == "2026-01-30" and held["place"] == "Yokosuka"
    assert len(held["evidence"]) > len(planned["evidence"]) >= 1


def test_a_user_template_changes_the_message_of_every_seed_alert(
    sqlite_url: str, tmp_path: Path, http: HttpReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "alert.txt.j2").write_text(
        "DESK {{ a.category }} | {{ a.change or a.status }}\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("WATCHFLOOR_TEMPLATES_DIR", str(templates))
    config = write_subscribers(tmp_path, [(hook_url(http.port), "")])
    with store_env(sqlite_url):
        assert replay_flow(apprise_config=config).alerts_sent == 4
    messages = sorted(r.json()["message"] for r in http.received)
    assert messages == [
        "DESK MILITARY EXERCISE | planned",
        "DESK MINISTERIAL MEETING | planned",
        "DESK MINISTERIAL MEETING | planned -> occurred",
        "DESK MISSILE LAUNCH | occurred",
    ]


def test_a_broken_template_stops_the_replay_at_start(tmp_path: Path) -> None:
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "alert.html.j2").write_text("<b>{{ a.headline }</b>\n", encoding="utf-8")
    result = watchfloor(
        "replay",
        str(SEEDS),
        "--db",
        f"sqlite:///{tmp_path / 'x.db'}",
        cwd=tmp_path,
        env={"WATCHFLOOR_TEMPLATES_DIR": str(templates)},
    )
    assert result.returncode == 2, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert (
        f"config error {templates / 'alert.html.j2'}:1: template error: TemplateSyntaxError"
        in lines[0]
    )
    assert not (tmp_path / ".prefect").exists() or not any((tmp_path / ".prefect").glob("*.db"))
