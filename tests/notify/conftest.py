"""Fixtures of the notify tests: real receivers and a clean Apprise cache."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import notify
from tests.notify.receivers import HttpReceiver, SmtpReceiver, free_port


@pytest.fixture(autouse=True)
def _fresh_channels() -> Iterator[None]:
    """Every test loads its own Apprise objects (receivers change ports between tests)."""
    notify.forget_channels()
    yield
    notify.forget_channels()


@pytest.fixture
def http() -> Iterator[HttpReceiver]:
    receiver = HttpReceiver()
    yield receiver
    receiver.close()


@pytest.fixture
def smtp() -> Iterator[SmtpReceiver]:
    receiver = SmtpReceiver()
    yield receiver
    receiver.close()


@pytest.fixture
def closed_port() -> int:
    return free_port()
