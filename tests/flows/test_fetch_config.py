"""Fetch configuration read by flows: the network allow-list setting and the sources file."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.errors import ConfigValidationError
from flows.context.settings import load_settings
from flows.context.sourcesfile import load_source_specs


@pytest.mark.parametrize(
    ("value", "entries"),
    [
        ("10.20.0.0/16, 192.168.1.5,intranet.example",
         ["10.20.0.0/16", "192.168.1.5", "intranet.example"]),
        ('["10.20.0.0/16", "::1"]', ["10.20.0.0/16", "::1"]),
        ("", []),
    ],
)  # fmt: skip
def test_allow_networks_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, value: str, entries: list[str]
) -> None:
    monkeypatch.setenv("WATCHFLOOR_FETCH_ALLOW_NETWORKS", value)
    assert load_settings().fetch_allow_networks == entries


def test_tests_allow_the_loopback_feed_server() -> None:
    assert load_settings().fetch_allow_networks == ["127.0.0.1"]  # set by tests/conftest.py


def test_a_bad_allow_entry_stops_at_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WATCHFLOOR_FETCH_ALLOW_NETWORKS", "10.0.0.0/8, 300.1.2.3/8")
    with pytest.raises(ConfigValidationError) as caught:
        load_settings()
    assert str(caught.value).startswith(
        "WATCHFLOOR_FETCH_ALLOW_NETWORKS (environment or .env): '300.1.2.3/8' is not a network"
    )


def test_flows_load_sources_with_the_adapters_loader(tmp_path: Path) -> None:
    bad = tmp_path / "sources.yaml"
    bad.write_bytes(b"sources:\n  - name: \xff\n")
    with pytest.raises(ConfigValidationError) as caught:
        load_source_specs(bad)
    assert str(caught.value) == (f"{bad}:2: not UTF-8 (byte 0xff at offset 19): save it as UTF-8")
    with pytest.raises(ConfigValidationError, match="no such sources file"):
        load_source_specs(tmp_path / "missing.yaml")
    with pytest.raises(ConfigValidationError, match="is a folder, not a sources file"):
        load_source_specs(tmp_path)
