"""Paging over a store of 120 developments written through db: 50 a page, newest first, with
next and previous links that keep the filters."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import feedparser
import httpx
import pytest

from tests.web.manystore import fill
from tests.web.webkit import config_for, serving

ROW = re.compile(r'<a href="/developments/(\d+)">')


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    url = f"sqlite:///{tmp_path_factory.mktemp('many') / 'many.db'}"
    fill(url, 120)
    with serving(config_for(url)) as served:
        yield served


def _link(html: str, rel: str) -> str | None:
    found = re.search(rf'<a rel="{rel}" href="([^"]+)"', html)
    return found.group(1).replace("&amp;", "&") if found else None


def test_pages_of_fifty_newest_first_cover_every_development(client: httpx.Client) -> None:
    seen: list[int] = []
    href: str | None = "/"
    pages = 0
    while href:
        html = client.get(href).text
        seen.extend(int(i) for i in ROW.findall(html))
        href = _link(html, "next")
        pages += 1
    assert pages == 3
    assert seen == sorted(range(1, 121), reverse=True)


def test_next_and_previous_links_keep_the_filters(client: httpx.Client) -> None:
    first = client.get("/", params={"region": "korea", "text": "event"}).text
    after = _link(first, "next")
    assert after is not None
    assert "region=korea" in after and "text=event" in after and "page=2" in after
    second = client.get(after).text
    back = _link(second, "prev")
    assert back is not None and "region=korea" in back and "page=1" in back
    shown = {int(i) for i in ROW.findall(first)} | {int(i) for i in ROW.findall(second)}
    assert len(shown) == 60  # developments 0 and 3 of every 4 are in Korea: 60 of 120
    assert _link(second, "next") is None


def test_a_feed_carries_the_newest_page(client: httpx.Client) -> None:
    feed = feedparser.parse(client.get("/feeds/developments.atom").content)
    assert len(feed.entries) == 50
    assert feed.entries[0].id == "urn:watchfloor:development:120"


def test_the_api_pages_like_the_list(client: httpx.Client) -> None:
    third = client.get("/api/developments", params={"page": "3"}).json()
    assert [d["id"] for d in third] == list(range(20, 0, -1))
    assert client.get("/api/developments", params={"page": "4"}).json() == []


def test_the_measurement_store_is_made_the_same_way(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'two.db'}"
    fill(url, 2)
    with serving(config_for(url)) as served:
        rows = served.get("/api/developments").json()
    assert [(d["id"], d["regions"]) for d in rows] == [
        (2, ["japan"]),
        (1, ["korea", "north-korea"]),
    ]
