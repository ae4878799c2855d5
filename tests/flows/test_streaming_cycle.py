"""A monitor cycle streams: what arrives is stored, detected and alerted while slower sources
are still being fetched, so one slow feed delays only itself. Real monitor flow runs against
the local feed server, whose webhook route receives the alerts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.adapters.feedserver import FeedServer
from tests.adapters.monitorkit import Src, run_monitor, write_sources
from tests.conftest import store_env

pytestmark = pytest.mark.usefixtures("prefect_harness")

# The slow source answers once an alert has reached the webhook, and fails if none comes in
# this many seconds: a cycle whose detection waited for every fetch could never alert in time.
WAIT_FOR_ALERT_S = 20
SLOW = {"total_timeout_s": WAIT_FOR_ALERT_S + 10, "read_timeout_s": WAIT_FOR_ALERT_S + 5}


@pytest.fixture
def server() -> Iterator[FeedServer]:
    feeds = FeedServer().start()
    yield feeds
    feeds.close()


def test_an_alert_goes_out_while_a_slow_source_is_still_being_fetched(
    server: FeedServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sources = [
        Src("slow", f"/afterpost/{WAIT_FOR_ALERT_S}/atom_japan.xml", SLOW),
        Src("korea", "/feed/rss2_korea.xml"),
    ]
    path = write_sources(tmp_path / "sources.yaml", server, sources)
    hook = f'["json://127.0.0.1:{server.server_address[1]}/hook/alerts"]'
    monkeypatch.setenv("WATCHFLOOR_NOTIFY_URLS", hook)
    with store_env(f"sqlite:///{tmp_path / 'store.db'}"):
        report, _ = run_monitor(sources_file=str(path))
    lines = {line.name: line for line in report.sources}
    assert lines["slow"].status == "ok", lines["slow"]  # it answered: an alert came first
    assert lines["slow"].new_items > 0
    assert server.posts and all(p == "/hook/alerts" for p, _ in server.posts)
    assert report.alerts_sent == len(server.posts)
    # Everything stored was detected, the slow source's items included, in the same cycle.
    assert report.detected == report.new_articles
