"""Alerts end to end: real replay flow runs, real SQLite files, real SMTP and HTTP receivers.

The clock of the flows is the test's (flows.context.clock.utcnow), so backoff, quiet hours and
digest periods pass without waiting.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from flows.replay import replay_flow
from flows.stages.report import RunReport
from tests.conftest import store_env
from tests.notify.alertkit import (
    SEED_ALERTS,
    Clock,
    deliveries,
    hook_url,
    mail_url,
    prefix,
    subject,
    subjects,
    titles,
    write_subscribers,
)
from tests.notify.receivers import HttpReceiver, SmtpReceiver

pytestmark = pytest.mark.usefixtures("prefect_harness")


def replay(database_url: str, config: str) -> RunReport:
    """One real replay flow run of the seeds, subscribers from an Apprise YAML file."""
    with store_env(database_url):
        return replay_flow(apprise_config=config)


def states(database_url: str, path: str) -> list[tuple[str, int]]:
    """(state, attempts) of the deliveries to the subscriber whose display contains `path`."""
    return [
        (d["state"], d["attempts"]) for d in deliveries(database_url) if path in d["target_display"]
    ]


# --- (a) the acceptance: 4 alerts to each receiver, once -----------------------------------


def test_seeds_reach_smtp_and_webhook_exactly_once(
    sqlite_url: str, tmp_path: Path, smtp: SmtpReceiver, http: HttpReceiver, clock: Clock
) -> None:
    config = write_subscribers(tmp_path, [(mail_url(smtp.port), ""), (hook_url(http.port), "")])

    first = replay(sqlite_url, config)
    assert (first.alerts_sent, first.deliveries_failed, first.unrouted_alerts) == (4, 0, 0)
    assert subjects(smtp) == SEED_ALERTS
    assert titles(http) == SEED_ALERTS

    # the status change says what changed, in both parts of the email
    (changed,) = [m for m in smtp.messages if "planned -> occurred" in subject(m)]
    parts = {
        p.get_content_type(): p.get_payload(decode=True).decode()
        for p in changed.walk()
        if not p.is_multipart()
    }
    assert "Status: planned -> occurred (update)" in parts["text/plain"]
    assert "planned -&gt; occurred" in parts["text/html"]
    launch = next(r.json() for r in http.received if r.json()["title"].startswith("[MISSILE"))
    assert launch["type"] == "warning"  # level high
    assert "Reported by" in launch["message"] and "Why: rule missile_launch" in launch["message"]

    clock.advance(hours=1)
    second = replay(sqlite_url, config)
    assert (second.alerts_sent, second.deliveries_failed) == (0, 0)
    assert len(smtp.messages) == 4 and len(http.received) == 4
    rows = deliveries(sqlite_url)
    assert len(rows) == 8
    assert {(d["state"], d["attempts"]) for d in rows} == {("sent", 1)}


# --- (b) webhook failing: 500, then down, then back ---------------------------------------


def test_failing_webhook_keeps_deliveries_pending_then_delivers_once(
    sqlite_url: str, tmp_path: Path, smtp: SmtpReceiver, http: HttpReceiver, clock: Clock
) -> None:
    port = http.port
    config = write_subscribers(tmp_path, [(mail_url(smtp.port), ""), (hook_url(port), "")])
    http.respond(500)

    first = replay(sqlite_url, config)
    assert first.alerts_sent == 4  # the mail went out: one bad channel does not stop the others
    assert first.deliveries_failed == 4
    assert len(http.received) == 4  # tried once each, and Apprise did not retry on its own
    assert states(sqlite_url, f":{port}/") == [("pending", 1)] * 4
    errors = {d["last_error"] for d in deliveries(sqlite_url) if f":{port}/" in d["target_display"]}
    assert all("500" in (e or "") for e in errors), errors

    http.close()  # now the receiver is down altogether
    clock.advance(minutes=2)  # past the first backoff (60 s)
    down = replay(sqlite_url, config)
    assert (down.alerts_sent, down.deliveries_failed) == (0, 4)
    assert states(sqlite_url, f":{port}/") == [("pending", 2)] * 4

    recovered = HttpReceiver(port=port)
    try:
        clock.advance(minutes=1)  # the second backoff (120 s) has not passed yet
        early = replay(sqlite_url, config)
        assert (early.alerts_sent, early.deliveries_failed) == (0, 0)
        assert recovered.received == []

        clock.advance(minutes=5)
        late = replay(sqlite_url, config)
        assert (late.alerts_sent, late.deliveries_failed) == (4, 0)
        assert titles(recovered) == SEED_ALERTS  # each exactly once

        clock.advance(hours=1)
        again = replay(sqlite_url, config)
        assert again.alerts_sent == 0
        assert len(recovered.received) == 4
        assert len(smtp.messages) == 4
        assert states(sqlite_url, f":{port}/") == [("sent", 3)] * 4
    finally:
        recovered.close()


# --- (c) SMTP refusal then recovery ---------------------------------------------------------


def test_smtp_refusal_then_recovery(
    sqlite_url: str, tmp_path: Path, smtp: SmtpReceiver, http: HttpReceiver, clock: Clock
) -> None:
    config = write_subscribers(tmp_path, [(mail_url(smtp.port), ""), (hook_url(http.port), "")])
    smtp.handler.refuse = True

    refused = replay(sqlite_url, config)
    assert (refused.alerts_sent, refused.deliveries_failed) == (4, 4)  # the webhook got them
    assert smtp.messages == []
    mail = [d for d in deliveries(sqlite_url) if d["target_display"].startswith("mailto://")]
    assert {(d["state"], d["attempts"]) for d in mail} == {("pending", 1)}

    smtp.handler.refuse = False
    clock.advance(minutes=2)
    recovered = replay(sqlite_url, config)
    assert (recovered.alerts_sent, recovered.deliveries_failed) == (4, 0)
    assert subjects(smtp) == SEED_ALERTS

    clock.advance(minutes=10)
    assert replay(sqlite_url, config).alerts_sent == 0
    assert len(smtp.messages) == 4 and len(http.received) == 4


# --- (d) routing by tags, and unrouted alerts -----------------------------------------------


def test_tags_route_alerts_to_the_right_subscribers(
    sqlite_url: str, tmp_path: Path, smtp: SmtpReceiver, http: HttpReceiver, clock: Clock
) -> None:
    config = write_subscribers(
        tmp_path,
        [
            (hook_url(http.port, "launches"), "missile_launch"),
            (hook_url(http.port, "critical"), "level:critical"),
            (mail_url(smtp.port), ""),
        ],
    )
    report = replay(sqlite_url, config)
    assert (report.alerts_sent, report.unrouted_alerts) == (4, 0)
    assert titles(http, "launches") == ["[MISSILE LAUNCH] occurred:"]
    assert titles(http, "critical") == []  # no seed alert is critical
    assert subjects(smtp) == SEED_ALERTS  # and the others still got everything


def test_an_alert_nobody_wants_is_recorded_unrouted(
    sqlite_url: str, tmp_path: Path, http: HttpReceiver, clock: Clock
) -> None:
    import db
    from flows.context.runtime import transaction

    config = write_subscribers(tmp_path, [(hook_url(http.port, "launches"), "missile_launch")])
    report = replay(sqlite_url, config)
    assert (report.alerts_sent, report.unrouted_alerts) == (1, 3)
    with transaction(sqlite_url) as session:
        unrouted = db.list_alerts(session, "unrouted")
    assert sorted(a.category for a in unrouted) == [
        "military_exercise",
        "ministerial_meeting",
        "ministerial_meeting",
    ]
    assert all(a.deliveries == () and a.routed_at is not None for a in unrouted)
    clock.advance(hours=1)
    assert replay(sqlite_url, config).unrouted_alerts == 0  # counted once, when routed


# --- (e) digests and quiet hours ------------------------------------------------------------


def test_hourly_digest_sends_one_summary_per_period(
    sqlite_url: str, tmp_path: Path, http: HttpReceiver, clock: Clock
) -> None:
    config = write_subscribers(
        tmp_path,
        [(hook_url(http.port, "digest"), "digest:hourly"), (hook_url(http.port, "now"), "")],
    )
    clock.set(datetime(2026, 1, 28, 10, 5, tzinfo=UTC))
    first = replay(sqlite_url, config)
    assert first.alerts_sent == 4
    assert titles(http, "now") == SEED_ALERTS
    assert titles(http, "digest") == []
    held = [d for d in deliveries(sqlite_url) if "/digest/" in d["target_display"]]
    assert {str(d["next_attempt_at"])[:19] for d in held} == {"2026-01-28 11:00:00"}

    clock.set(datetime(2026, 1, 28, 10, 59, tzinfo=UTC))
    replay(sqlite_url, config)
    assert [r for r in http.received if r.path.startswith("/digest/")] == []

    clock.set(datetime(2026, 1, 28, 11, 0, 30, tzinfo=UTC))
    due = replay(sqlite_url, config)
    (digest,) = [r.json() for r in http.received if r.path.startswith("/digest/")]
    assert digest["title"].startswith("Watchfloor digest: 4 alerts")
    assert "4 alerts since the last digest" in digest["message"]
    for expected in SEED_ALERTS:
        assert expected in digest["message"]
    assert due.alerts_sent == 4

    clock.set(datetime(2026, 1, 28, 13, 0, tzinfo=UTC))
    replay(sqlite_url, config)
    assert len([r for r in http.received if r.path.startswith("/digest/")]) == 1
    assert len(http.received) == 5


def test_quiet_hours_hold_alerts_until_they_end(
    sqlite_url: str, tmp_path: Path, http: HttpReceiver, clock: Clock
) -> None:
    config = write_subscribers(
        tmp_path,
        [
            (hook_url(http.port, "sleepy"), "quiet:22-07, tz:Asia/Seoul"),
            (hook_url(http.port, "awake"), ""),
        ],
    )
    clock.set(datetime(2026, 1, 28, 14, 0, tzinfo=UTC))  # 23:00 in Seoul
    replay(sqlite_url, config)
    assert titles(http, "awake") == SEED_ALERTS
    assert titles(http, "sleepy") == []

    clock.set(datetime(2026, 1, 28, 21, 59, tzinfo=UTC))  # 06:59 in Seoul
    replay(sqlite_url, config)
    assert titles(http, "sleepy") == []

    clock.set(datetime(2026, 1, 28, 22, 0, tzinfo=UTC))  # 07:00 in Seoul: quiet hours are over
    morning = replay(sqlite_url, config)
    assert morning.alerts_sent == 4
    assert titles(http, "sleepy") == SEED_ALERTS
    assert {(d["state"], d["attempts"]) for d in deliveries(sqlite_url)} == {("sent", 1)}


# --- secrets: flow-run parameters and artifacts -----------------------------------------------


def test_flow_runs_carry_no_subscriber_url(
    sqlite_url: str,
    tmp_path: Path,
    http: HttpReceiver,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Subscribers reach the flow through a file path or the environment, never a parameter."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.sorting import FlowRunSort

    from tests.secret_audit import find_marker

    config = write_subscribers(tmp_path, [(hook_url(http.port, "file"), "")])
    monkeypatch.setenv("WATCHFLOOR_NOTIFY_URLS", f'["{hook_url(http.port, "env")}"]')
    report = replay(sqlite_url, config)
    assert report.alerts_sent == 4
    assert titles(http, "env") == SEED_ALERTS and titles(http, "file") == SEED_ALERTS
    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(sort=FlowRunSort.START_TIME_DESC, limit=200)
        # the raw endpoint: the sync client's read_artifacts sends filters that match nothing
        body = {"limit": 200, "offset": 0, "sort": "CREATED_DESC"}
        artifacts = client.request("POST", "/artifacts/filter", json=body).json()
    assert runs and any(a["key"] == "watchfloor-replay" for a in artifacts)
    for run in runs:
        assert not find_marker(repr(run.parameters)), run.name
        assert f"127.0.0.1:{http.port}" not in repr(run.parameters)
    for artifact in artifacts:
        assert not find_marker(repr(artifact))
        assert f"127.0.0.1:{http.port}" not in repr(artifact)
    assert prefix(http.received[0].json()["title"]) in SEED_ALERTS
