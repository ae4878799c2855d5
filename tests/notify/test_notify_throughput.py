"""Bulk sends to the local receivers all arrive (rates printed with -s; `make bench` measures)."""

from __future__ import annotations

import time

import pytest

from core.model import DeliveryOutcome
from tests.notify.notifykit import MAIL_QUERY, Subscriber, make_alert, subscriber
from tests.notify.receivers import HttpReceiver, SmtpReceiver

pytestmark = pytest.mark.slow


def send_timed(target: Subscriber, count: int, what: str) -> list[DeliveryOutcome]:
    """Send `count` distinct alerts to `target` one after another; print the rate."""
    alerts = [make_alert(id=i) for i in range(count)]
    started = time.perf_counter()
    outcomes = [target.send(alert) for alert in alerts]
    elapsed = time.perf_counter() - started
    print(f"\n{count:,} {what}: {elapsed:.2f} s ({count / elapsed:.0f}/s)")
    return outcomes


def test_100_emails(smtp: SmtpReceiver) -> None:
    mailbox = subscriber(f"mailto://127.0.0.1:{smtp.port}?{MAIL_QUERY}")
    outcomes = send_timed(mailbox, 100, "emails to local SMTP")
    assert all(o.ok for o in outcomes)
    assert len(smtp.messages) == 100


def test_1000_json_posts(http: HttpReceiver) -> None:
    hook = subscriber(f"json://127.0.0.1:{http.port}/hook")
    outcomes = send_timed(hook, 1000, "json posts to local HTTP")
    assert all(o.ok for o in outcomes)
    assert len(http.received) == 1000
