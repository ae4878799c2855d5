"""A run sends through the Apprise services its own load of the subscribers built.

An Apprise YAML entry can carry options its URL form cannot: an email sender's display name
(`from: Night Desk <alerts@example.com>`) is lost when a service is rebuilt from the entry's
URL. Sending used to rebuild from the URL whenever the process-wide plugin cache lacked the
target, and a later load replaced an earlier one's plugins there. Now `notify.load_targets`
returns Subscribers that own their services, and the flows hand them to the send stage.

Real SMTP receiver, real SQLite files, a real replay flow run.
"""

from __future__ import annotations

from email.utils import parseaddr
from pathlib import Path

import pytest

from flows.context.config import load_targets
from flows.replay import replay_flow
from flows.stages.delivery import deliver_pending
from tests.conftest import store_env
from tests.notify.alertkit import SEED_ALERTS, T0, Clock, seed_alerts, subjects
from tests.notify.receivers import SmtpReceiver

DESK = "WATCHFLOOR_TEST_DESK_NAME"


def desk_config(folder: Path, port: int) -> Path:
    """One mailbox whose sender's display name only the YAML options can give (from $DESK)."""
    path = folder / "subscribers.yaml"
    path.write_text(
        "version: 1\n"
        "urls:\n"
        f"  - mailto://127.0.0.1:{port}:\n"
        "      - to: desk@example.com\n"
        f"        from: ${{{DESK}}} <alerts@example.com>\n",
        encoding="utf-8",
    )
    return path


def senders(smtp: SmtpReceiver) -> list[tuple[str, str]]:
    """(display name, address) of every email received, in order."""
    return [parseaddr(str(message["From"])) for message in smtp.messages]


@pytest.mark.usefixtures("prefect_harness")
def test_a_replay_run_sends_with_the_options_of_the_yaml_entry(
    sqlite_url: str,
    tmp_path: Path,
    smtp: SmtpReceiver,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(DESK, "Night Desk")
    config = desk_config(tmp_path, smtp.port)
    with store_env(sqlite_url):
        report = replay_flow(apprise_config=str(config))
    assert (report.alerts_sent, report.deliveries_failed) == (4, 0)
    assert subjects(smtp) == SEED_ALERTS
    assert senders(smtp) == [("Night Desk", "alerts@example.com")] * 4


def test_two_loads_of_one_subscriber_each_send_through_their_own_service(
    sqlite_url: str, tmp_path: Path, smtp: SmtpReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same entry as written (one subscriber key) loaded twice in one process under two
    environments: each load's sends carry its own display name, whichever was loaded last."""
    config = desk_config(tmp_path, smtp.port)
    monkeypatch.setenv(DESK, "Night Desk")
    night = load_targets(config, [], set(), set())
    monkeypatch.setenv(DESK, "Day Desk")
    day = load_targets(config, [], set(), set())
    assert [t.key for t in night] == [t.key for t in day]

    seed_alerts(sqlite_url, ["high"])
    assert deliver_pending(sqlite_url, night, 8, T0).delivered == 1
    seed_alerts(sqlite_url, ["high"])
    assert deliver_pending(sqlite_url, day, 8, T0).delivered == 1
    seed_alerts(sqlite_url, ["high"])
    assert deliver_pending(sqlite_url, night, 8, T0).delivered == 1
    assert senders(smtp) == [
        ("Night Desk", "alerts@example.com"),
        ("Day Desk", "alerts@example.com"),
        ("Night Desk", "alerts@example.com"),
    ]
