"""The console over the seeds' replay: the list and its filters, one development's timeline and
alerts, sources, the JSON API, Atom feeds and their autodiscovery."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser

import feedparser
import httpx
import pytest

from tests.conftest import DEVELOPMENT_KEYS
from tests.web.webkit import config_for, serving

SEED_CATEGORIES = {"missile_launch", "ministerial_meeting", "summit", "military_exercise"}


@pytest.fixture(scope="module")
def client(seed_store: str) -> Iterator[httpx.Client]:
    with serving(config_for(seed_store)) as served:
        yield served


class _Links(HTMLParser):
    """Every <link> and <a> of a page, with their attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[dict[str, str | None]] = []
        self.anchors: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "link":
            self.links.append(dict(attrs))
        elif tag == "a":
            self.anchors.append(dict(attrs))


def parsed(html: str) -> _Links:
    parser = _Links()
    parser.feed(html)
    return parser


def listed_ids(html: str) -> list[int]:
    """Development ids linked from a list page's rows, in order."""
    return [int(i) for i in re.findall(r'<a href="/developments/(\d+)">', html)]


def api(client: httpx.Client, **params: str) -> list[dict]:
    answer = client.get("/api/developments", params=params)
    assert answer.status_code == 200
    return answer.json()


def test_the_list_shows_the_four_seed_developments(client: httpx.Client) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert "text/html" in page.headers["content-type"]
    assert len(listed_ids(page.text)) == 4
    assert {d["category"] for d in api(client)} == SEED_CATEGORIES


def test_the_list_is_newest_first(client: httpx.Client) -> None:
    ids = listed_ids(client.get("/").text)
    assert ids == sorted(ids, reverse=True)


def test_filters_narrow_the_list(client: httpx.Client) -> None:
    launch = api(client, category="missile_launch")
    assert [d["category"] for d in launch] == ["missile_launch"]
    korea = api(client, region="korea")
    assert korea and all("korea" in d["regions"] for d in korea)
    assert {d["category"] for d in api(client, region="north-korea")} >= {"missile_launch"}
    assert [d["category"] for d in api(client, text="yokosuka")] == ["ministerial_meeting"]
    assert [d["category"] for d in api(client, text="YOKOSUKA")] == ["ministerial_meeting"]
    assert [d["category"] for d in api(client, status="planned")] == ["military_exercise"]
    assert api(client, region="atlantis") == []
    assert api(client, text="%") == []  # a LIKE wildcard is taken literally
    assert {d["event_date"] for d in api(client, date_from="2026-01-27", date_to="2026-01-27")} == {
        "2026-01-27"
    }
    assert api(client, outlet="no-such-outlet") == []
    assert len(api(client, outlet="replay")) == 4


def test_the_list_page_applies_the_same_filters(client: httpx.Client) -> None:
    page = client.get("/", params={"category": "missile_launch"})
    assert len(listed_ids(page.text)) == 1
    assert "missile_launch" in page.text


def test_a_bad_filter_is_a_400_naming_it(client: httpx.Client) -> None:
    answer = client.get("/", params={"date_from": "yesterday"})
    assert answer.status_code == 400
    assert "date_from" in answer.text
    assert client.get("/api/developments", params={"page": "0"}).status_code == 400


def test_the_api_answers_the_fields_of_developments_json(client: httpx.Client) -> None:
    rows = api(client)
    assert all(set(row) == DEVELOPMENT_KEYS for row in rows)
    meeting = next(d for d in rows if d["category"] == "ministerial_meeting")
    assert meeting["place"] == "Yokosuka"
    assert len(meeting["evidence"]) == 5


def _meeting_page(client: httpx.Client) -> str:
    (meeting,) = api(client, category="ministerial_meeting")
    page = client.get(f"/developments/{meeting['id']}")
    assert page.status_code == 200
    return page.text


def test_the_meeting_page_shows_planned_then_occurred_with_the_articles(
    client: httpx.Client,
) -> None:
    html = _meeting_page(client)
    steps = re.findall(r'<li class="step">(.*?)</li>', html, re.S)
    assert len(steps) == 2
    assert "planned" in steps[0] and "occurred" not in steps[0]
    assert "planned &rarr; occurred" in steps[1]
    assert all("moved by <q>" in step for step in steps)
    assert "Defense Chiefs Meet" in steps[0]  # seed 001 announced the meeting
    assert "In a scene reflecting the thaw" in steps[1]  # seed 002 reported it held


def test_the_meeting_page_lists_its_evidence_and_two_alerts(client: httpx.Client) -> None:
    html = _meeting_page(client)
    assert html.count('<tr class="evidence">') == 5
    assert html.count('<tr class="alert">') == 2
    assert "status_change" in html
    # The seeds' replay sent each alert to the failing Apprise target: its state is shown.
    assert re.search(r'<li class="delivery"><span class="(pending|failed)">', html)
    assert "Yokosuka" in html


def test_an_unknown_development_is_404(client: httpx.Client) -> None:
    assert client.get("/developments/999999").status_code == 404


def test_sources_page_shows_health(client: httpx.Client) -> None:
    html = client.get("/sources").text
    assert html.count('<tr class="source">') >= 1
    assert "healthy" in html
    assert 'href="/?outlet=replay"' in html


def test_the_atom_feed_for_missile_launch_has_the_launch(client: httpx.Client) -> None:
    answer = client.get("/feeds/developments.atom", params={"category": "missile_launch"})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/atom+xml")
    feed = feedparser.parse(answer.content)
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "atom10"
    assert feed.feed.id.endswith("/feeds/developments.atom?category=missile_launch")
    assert feed.feed.updated
    (entry,) = feed.entries
    assert "missile" in entry.title.lower()
    assert entry.id.startswith("urn:watchfloor:development:")
    assert re.search(r"/developments/\d+$", entry.link)
    assert entry.updated and entry.summary
    # The entry id does not depend on the filter: a reader sees one item per development.
    everything = feedparser.parse(client.get("/feeds/developments.atom").content)
    assert entry.id in {e.id for e in everything.entries}
    assert len(everything.entries) == 4


def test_every_list_page_advertises_its_filtered_feed(client: httpx.Client) -> None:
    html = client.get("/", params={"category": "missile_launch", "region": "korea"}).text
    (link,) = [link for link in parsed(html).links if link.get("type") == "application/atom+xml"]
    assert link["rel"] == "alternate"
    href = link["href"] or ""
    assert href.startswith("/feeds/developments.atom?")
    feed = feedparser.parse(client.get(href).content)
    assert [e.title for e in feed.entries] and all(
        "missile" in e.title.lower() for e in feed.entries
    )
    for path in ("/sources", _first_development_path(client)):
        assert any(
            link.get("type") == "application/atom+xml"
            for link in parsed(client.get(path).text).links
        )


def _first_development_path(client: httpx.Client) -> str:
    return f"/developments/{api(client)[0]['id']}"


def test_the_list_page_charts_the_last_90_days_by_category(client: httpx.Client) -> None:
    html = client.get("/").text
    # The replay saw all four developments today: one column of four stacked categories.
    bars = re.findall(
        r'<rect class="bar" x="([\d.]+)" y="([\d.]+)" width="[\d.]+" height="([\d.]+)"', html
    )
    assert len(bars) == 4
    # The last of 90 columns (10 px each), or the one before when midnight (UTC) fell between
    # the module's replay and this request.
    assert len({x for x, _, _ in bars}) == 1 and bars[0][0] in {"890.0", "880.0"}
    assert sum(float(h) for _, _, h in bars) == pytest.approx(160, abs=0.5)
    for category in SEED_CATEGORIES:
        assert f"{category}: 1</title>" in html
