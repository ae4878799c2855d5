"""Bulk sends to the local receivers all arrive (rates printed with -s; `make bench` measures)."""

from __future__ import annotations

import time

import pytest

from tests.notify.notifykit import MAIL_QUERY, make_alert, subscriber
from tests.notify.receivers import HttpReceiver, SmtpReceiver

pytestmark = pytest.mark.slow


def test_100_emails(smtp: SmtpReceiver) -> None:
    mailbox = subscriber(f"mailto://127.0.0.1:{smtp.port}?{MAIL_QUERY}")
    alerts = [make_alert(id=i) for i in range(100)]
    started = time.perf_counter()
    outcomes = [mailbox.send(alert) for alert in alerts]
    elapsed = time.perf_counter() - started
    print(f"\n100 emails to local SMTP: {elapsed:.2f} s ({100 / elapsed:.0f}/s)")
    assert all(o.ok for o in outcomes)
    assert len(smtp.messages) == 100


def test_1000_json_posts(http: HttpReceiver) -> None:
    hook = subscriber(f"json://127.0.0.1:{http.port}/hook")
    alerts = [make_alert(id=i) for i in range(1000)]
    started = time.perf_counter()
    outcomes = [hook.send(alert) for alert in alerts]
    elapsed = time.perf_counter() - started
    print(f"\n1,000 json posts to local HTTP: {elapsed:.2f} s ({1000 / elapsed:.0f}/s)")
    assert all(o.ok for o in outcomes)
    assert len(http.received) == 1000
