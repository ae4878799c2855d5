"""The console in a real browser: Debian's headless Chromium, driven by Playwright, loads the
pages served by uvicorn over the seeds' replay, follows links, submits the filter form, and
writes screenshots of the main pages."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from playwright.sync_api import Browser, Page

from tests.web.browserkit import launched_chromium, local_context, png_size
from tests.web.webkit import APPRISE_SECRET, config_for, serving

SEED_CATEGORIES = {"missile_launch", "ministerial_meeting", "summit", "military_exercise"}


@pytest.fixture(scope="session")
def chromium() -> Iterator[Browser]:
    with launched_chromium() as browser:
        yield browser


@pytest.fixture(scope="module")
def console(seed_store: str) -> Iterator[httpx.Client]:
    """The console over the seeds' store (read only here); a client whose base URL is it."""
    with serving(config_for(seed_store)) as client:
        yield client


@pytest.fixture
def page(chromium: Browser, console: httpx.Client) -> Iterator[Page]:
    """A fresh browser tab on the console; the test fails if a page reached beyond 127.0.0.1
    or raised a script error."""
    with local_context(chromium, str(console.base_url)) as (context, foreign):
        tab = context.new_page()
        script_errors: list[str] = []
        tab.on("pageerror", lambda error: script_errors.append(str(error)))
        yield tab
    assert foreign == [], "pages requested addresses outside 127.0.0.1"
    assert script_errors == []


def listed(page: Page) -> list[dict[str, str]]:
    """The list page's rows as the reader sees them: category, status and title."""
    rows = page.locator("tr.development")
    return [
        {
            "category": row.locator("td").nth(1).inner_text(),
            "status": row.locator("td").nth(2).inner_text(),
            "title": row.locator("td").nth(5).inner_text(),
        }
        for row in rows.all()
    ]


def test_the_list_shows_the_four_seed_developments(page: Page, console: httpx.Client) -> None:
    page.goto("/")
    assert page.title() == "Developments · Watchfloor"
    rows = listed(page)
    assert {row["category"] for row in rows} == SEED_CATEGORIES
    stored = console.get("/api/developments").json()
    assert {row["title"] for row in rows} == {d["title"] for d in stored}
    assert page.get_by_role("link", name="Sources").is_visible()


def test_a_row_links_to_the_meeting_with_its_timeline_evidence_and_alerts(page: Page) -> None:
    page.goto("/")
    meeting = page.locator("tr.development", has_text="ministerial_meeting")
    meeting.get_by_role("link").click()
    page.wait_for_url("**/developments/*")
    assert "Yokosuka" in page.locator("table.facts").inner_text()
    steps = page.locator("ol.timeline li.step").all_inner_texts()
    assert len(steps) == 2
    assert steps[0].startswith("planned at") and "Defense Chiefs Meet" in steps[0]
    assert steps[1].startswith("planned → occurred at")
    assert "In a scene reflecting the thaw" in steps[1]
    assert page.locator("tr.evidence").count() == 5
    assert page.get_by_role("heading", name="Evidence (5)").is_visible()
    alerts = page.locator("tr.alert")
    assert alerts.count() == 2
    assert [alerts.nth(i).locator("td").nth(1).inner_text() for i in range(2)] == [
        "new",
        "status_change",
    ]
    # The seeds' replay sent to a dead Apprise target: each alert shows its delivery's state.
    deliveries = page.locator("li.delivery").all_inner_texts()
    assert len(deliveries) == 2
    assert all(text.split()[0] in {"pending", "failed"} for text in deliveries)
    assert APPRISE_SECRET not in page.content()


def test_the_filter_form_narrows_the_list_and_spells_it_in_the_url(page: Page) -> None:
    page.goto("/")
    form = page.locator("form.filters")
    form.get_by_label("Category").fill("missile_launch")
    form.get_by_role("button", name="Filter").click()
    page.wait_for_url("**/?*category=missile_launch*")
    assert parse_qs(urlsplit(page.url).query)["category"] == ["missile_launch"]
    assert [row["category"] for row in listed(page)] == ["missile_launch"]
    # The form keeps the filter, and a status chosen from its list narrows further.
    assert form.get_by_label("Category").input_value() == "missile_launch"
    form.get_by_label("Category").fill("")
    form.get_by_label("Status").select_option("planned")
    form.get_by_role("button", name="Filter").click()
    page.wait_for_url("**/?*status=planned*")
    query = parse_qs(urlsplit(page.url).query)
    assert query["status"] == ["planned"] and "category" not in query
    assert [row["category"] for row in listed(page)] == ["military_exercise"]
    form.get_by_role("link", name="clear").click()
    page.wait_for_url(lambda url: urlsplit(url).query == "")
    assert len(listed(page)) == 4


def test_the_sources_page_and_its_outlet_link(page: Page) -> None:
    page.goto("/")
    page.get_by_role("link", name="Sources").click()
    page.wait_for_url("**/sources")
    sources = page.locator("tr.source")
    assert sources.count() >= 1
    replay = page.locator("tr.source", has_text="replay")
    assert "healthy" in replay.inner_text()
    replay.get_by_role("link", name="replay").click()
    page.wait_for_url("**/?outlet=replay")
    assert len(listed(page)) == 4


def test_the_chart_is_an_svg_of_the_four_categories(page: Page) -> None:
    page.goto("/")
    chart = page.locator("figure.chart svg")
    assert chart.is_visible()
    box = chart.bounding_box()
    assert box is not None and box["width"] > 100 and box["height"] > 50
    bars = chart.locator("rect.bar")
    assert bars.count() == 4
    assert all((bar.bounding_box() or {"height": 0})["height"] > 0 for bar in bars.all())
    assert set(page.locator("p.legend .tag").all_inner_texts()) == SEED_CATEGORIES


def test_every_page_advertises_its_atom_feed(page: Page) -> None:
    for path in ("/?category=missile_launch", "/sources"):
        page.goto(path)
        link = page.locator('head link[rel="alternate"][type="application/atom+xml"]')
        assert link.count() == 1
        href = link.get_attribute("href") or ""
        assert href.startswith("/feeds/developments.atom")
        feed = page.request.get(href)
        assert feed.ok and feed.headers["content-type"].startswith("application/atom+xml")
        if "category=missile_launch" in path:
            assert "category=missile_launch" in href
            assert feed.text().count("<entry>") == 1


def test_screenshots_of_the_main_pages(page: Page, tmp_path: Path) -> None:
    page.goto("/")
    first = page.locator("tr.development a").first.get_attribute("href") or ""
    shots = {"developments": "/", "development": first, "sources": "/sources"}
    for name, path in shots.items():
        page.goto(path)
        page.screenshot(path=tmp_path / f"{name}.png", full_page=True)
    for name in shots:
        shot = tmp_path / f"{name}.png"
        assert shot.stat().st_size > 5_000, f"{shot} is nearly empty"
        width, height = png_size(shot)
        assert width == 1280 and height >= 400


def test_a_missing_chromium_fails_naming_the_package(tmp_path: Path) -> None:
    missing = launched_chromium(tmp_path / "chromium")
    with pytest.raises(pytest.fail.Exception, match="apt-get install chromium"), missing:
        pass
