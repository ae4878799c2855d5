"""Helpers of the notify tests: a sample alert, loaded subscribers to send it to, and the
secrets the shipped subscribers file reads."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any

import pytest

import notify
from core.model import Alert, DeliveryOutcome, EvidenceRef, Target
from notify import Subscribers
from notify.sending.delivery import Channel
from tests.conftest import ROOT

MAIL_QUERY = "from=alerts@example.com&to=ops@example.com"
SHIPPED_SUBSCRIBERS = ROOT / "deploy" / "subscribers.yaml"


def set_shipped_secrets(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Set the variables deploy/subscribers.yaml reads, to values the secrets audit knows
    (WFSECRET...); return them, so a test can look for each in what it prints."""
    secrets = {
        "SMTP_USER": "alerts",
        "SMTP_PASSWORD": "WFSECRET-Passw0rd",
        "SLACK_TOKEN_A": "WFSECRET1",
        "SLACK_TOKEN_B": "WFSECRET2",
        "SLACK_TOKEN_C": "WFSECRETslackC0ffee42",
        "INCIDENT_TOKEN": "WFSECRET-Incident-42",
    }
    for name, value in secrets.items():
        monkeypatch.setenv(name, value)
    return secrets


def make_alert(**changes: Any) -> Alert:
    """The seed missile launch as an Alert; any field can be changed."""
    fields: dict[str, Any] = {
        "id": 1,
        "development_id": 1,
        "kind": "new",
        "category": "missile_launch",
        "status": "occurred",
        "previous_status": None,
        "title": "North Korea fires two ballistic missiles",
        "event_date": date(2026, 1, 27),
        "place": "northern Pyongyang",
        "actors": ("North Korea",),
        "facts": {"count": 2, "apogee_km": 80, "range_km": 350, "local_time": "15:50"},
        "level": "high",
        "tags": ("region:korean_peninsula",),
        "rule_id": "missile_launch",
        "terms": ("fired", "ballistic missiles"),
        "evidence": (
            EvidenceRef("Yonhap", "N. Korea fires 2 ballistic missiles", "https://yna.example/1"),
            EvidenceRef("NHK", "North Korea launches missiles", "https://nhk.example/2"),
            EvidenceRef("Kyodo", "Missiles land outside EEZ", None),
        ),
        "created_at": datetime(2026, 1, 28, 1, 0, tzinfo=UTC),
    }
    fields.update(changes)
    return Alert(**fields)


@dataclass(frozen=True)
class Subscriber:
    """One subscriber loaded the way flows load one (validated, secrets registered), in a
    Subscribers of its own, which is what sends to it."""

    subscribers: Subscribers
    target: Target

    @property
    def key(self) -> str:
        return self.target.key

    def send(self, alert: Alert) -> DeliveryOutcome:
        return self.subscribers.send(alert, self.target)

    def send_digest(self, alerts: Sequence[Alert]) -> list[DeliveryOutcome]:
        return self.subscribers.send_digest(alerts, self.target)

    def send_test(self) -> DeliveryOutcome:
        return self.subscribers.send_test(self.target)

    def channel(self) -> Channel:
        """Its channel (tests shorten a plugin's limits or stub its Apprise object here)."""
        return self.subscribers.channel(self.target)

    def with_templates(self, folder: str) -> Subscriber:
        """The same subscriber rendering with the templates of `folder`."""
        return only(self.subscribers.with_templates(folder))


def only(subscribers: Subscribers) -> Subscriber:
    """The one subscriber of `subscribers`, to send to."""
    (target,) = subscribers
    return Subscriber(subscribers, target)


def subscriber(url: str, *tags: str) -> Subscriber:
    """The subscriber of a plain Apprise URL, carrying `tags`."""
    loaded = notify.load_targets(None, [url])
    (plain,) = loaded
    tagged = replace(plain, tags=frozenset(tags))
    return only(Subscribers([(tagged, loaded.channel(plain).plugin)]))


def subscribers(*each: Subscriber) -> Subscribers:
    """Several subscribers as one Subscribers, as a run holds them."""
    return Subscribers.joined(one.subscribers for one in each)
