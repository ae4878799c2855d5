"""The watchfloor://terminal schema prints alerts, through the same delivery path as any channel."""

from __future__ import annotations

import pytest

import notify
from tests.notify.notifykit import make_alert, subscriber


def test_terminal_prints_the_alert(capsys: pytest.CaptureFixture[str]) -> None:
    terminal = subscriber(notify.TERMINAL_URL)
    outcome = terminal.send(make_alert())
    assert outcome.ok and outcome.error is None
    out = capsys.readouterr().out
    assert "[MISSILE LAUNCH] occurred: North Korea fires two ballistic missiles" in out
    assert "Reported by 3 outlets: Yonhap, NHK, Kyodo" in out
    assert "<https://yna.example/1>" in out


def test_terminal_routes_everything_and_is_not_throttled(
    capsys: pytest.CaptureFixture[str],
) -> None:
    terminal = subscriber(notify.TERMINAL_URL)
    assert notify.route(make_alert(category="summit", level="low"), [terminal.target]) == [
        terminal.target
    ]
    for i in range(5):
        assert terminal.send(make_alert(id=i, title=f"Launch {i}")).ok
    out = capsys.readouterr().out
    assert all(f"Launch {i}" in out for i in range(5))
    assert terminal.send_test().ok
    assert "Watchfloor test message" in capsys.readouterr().out


def test_many_alerts_become_one_line_each(capsys: pytest.CaptureFixture[str]) -> None:
    terminal = subscriber(notify.TERMINAL_URL)
    for i in range(13):
        assert terminal.send(make_alert(id=i, title=f"Launch {i}")).ok
    out = capsys.readouterr().out
    first, rest = out.split("one line each from here", 1)
    assert all(f"Launch {i}\n" in first for i in range(10))
    assert first.count("Reported by 3 outlets") == 10
    assert "Reported by" not in rest
    assert rest.strip().splitlines()[-3:] == [
        f"• [MISSILE LAUNCH] occurred: Launch {i}" for i in (10, 11, 12)
    ]
