"""Fixtures every test package shares for alerts (registered in tests/conftest.py): real local
receivers, a closed port, and the flows' clock set by the test.

Nothing here resets notify between tests: each load of subscribers owns its Apprise services
(notify.Subscribers), so there is no process-wide cache to clear."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.notify.alertkit import Clock, install_clock
from tests.notify.receivers import HttpReceiver, SmtpReceiver, free_port


@pytest.fixture
def http() -> Iterator[HttpReceiver]:
    """A webhook receiver on 127.0.0.1."""
    receiver = HttpReceiver()
    yield receiver
    receiver.close()


@pytest.fixture
def smtp() -> Iterator[SmtpReceiver]:
    """An SMTP server on 127.0.0.1."""
    receiver = SmtpReceiver()
    yield receiver
    receiver.close()


@pytest.fixture
def closed_port() -> int:
    """A port nothing listens on."""
    return free_port()


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """The wall clock of every flow stage, at alertkit.T0 until the test moves it."""
    return install_clock(monkeypatch)
