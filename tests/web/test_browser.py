"""The console in a real browser: Debian's headless Chromium, driven by Playwright, loads the
pages served by uvicorn over the seeds' replay, follows links, submits the filter form, and
writes screenshots of the main pages."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.notify.alertkit import hook_url, write_subscribers
from tests.notify.receivers import HttpReceiver
from tests.web.browserkit import browser_tab, launched_chromium, png_size
from tests.web.webkit import (
    ANNOUNCED,
    APPRISE_SECRET,
    HELD,
    TOKEN,
    config_for,
    replay_seed_part,
    serving,
    sqlite_copy,
)

SEED_CATEGORIES = {"missile_launch", "ministerial_meeting", "summit", "military_exercise"}


@pytest.fixture(scope="module")
def console(seed_store: str) -> Iterator[httpx.Client]:
    """The console over the seeds' store (read only here); a client whose base URL is it."""
    with serving(config_for(seed_store)) as client:
        yield client


@pytest.fixture
def page(chromium: Browser, console: httpx.Client) -> Iterator[Page]:
    """A fresh browser tab on the read-only console."""
    with browser_tab(chromium, str(console.base_url)) as tab:
        yield tab


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


# --- feedback: an analyst logged in with the token --------------------------------------------


@pytest.fixture
def analyst(chromium: Browser, seed_store: str, tmp_path: Path) -> Iterator[Page]:
    """A tab logged in (/login?token=) to a console with a token over a copy of the seeds' store,
    which its feedback forms may change."""
    url = sqlite_copy(seed_store, tmp_path)
    with (
        serving(config_for(url, token=TOKEN)) as client,
        browser_tab(chromium, str(client.base_url)) as tab,
    ):
        log_in(tab)
        yield tab


def log_in(tab: Page) -> None:
    """Log `tab` in with the token (/login?token=), which leaves no trace in the page."""
    tab.goto(f"/login?token={TOKEN}")
    tab.wait_for_url(lambda address: urlsplit(address).path == "/")
    assert TOKEN not in tab.content()


def mark_false_alarm(page: Page, by: str) -> None:
    """On a development's page, mark it a false alarm as `by`; waits for the page it leads to."""
    form = page.locator('form[action$="/false-alarm"]')
    form.get_by_label("Your name").fill(by)
    form.get_by_role("button", name="Mark false alarm").click()
    # The form posts and is redirected back to the same address: wait for the new page.
    expect(page.locator("p.dismissed")).to_contain_text("Marked a false alarm")


def open_development(page: Page, category: str) -> int:
    """From the list, follow the row of `category` to its page; answers its id."""
    page.goto("/")
    page.locator("tr.development", has_text=category).get_by_role("link").click()
    page.wait_for_url("**/developments/*")
    return int(urlsplit(page.url).path.rsplit("/", 1)[1])


def test_a_false_alarm_marked_in_the_browser_leaves_the_list(analyst: Page) -> None:
    launch = open_development(analyst, "missile_launch")
    mark_false_alarm(analyst, "alice")
    assert urlsplit(analyst.url).path == f"/developments/{launch}"
    assert (
        analyst.locator("li.feedback-record")
        .all_inner_texts()[0]
        .startswith("false alarm by alice at")
    )
    assert analyst.get_by_role("button", name="Mark false alarm").count() == 0
    analyst.get_by_role("link", name="Developments").click()
    analyst.wait_for_url(lambda address: urlsplit(address).path == "/")
    rows = listed(analyst)
    assert len(rows) == 3 and "missile_launch" not in {row["category"] for row in rows}
    # Still on record: the list's Dismissed filter shows it.
    filters = analyst.locator("form.filters")
    filters.get_by_label("Dismissed").select_option("false_alarm")
    filters.get_by_role("button", name="Filter").click()
    analyst.wait_for_url("**/?*dismissed=false_alarm*")
    assert [row["category"] for row in listed(analyst)] == ["missile_launch"]


def test_split_two_reports_off_then_merge_them_back(analyst: Page) -> None:
    """The seeds hold one development per category and a merge stays within one: split two
    reports off the meeting into a second development, then merge that into the meeting."""
    meeting = open_development(analyst, "ministerial_meeting")
    boxes = analyst.locator('input[type="checkbox"][name="evidence"]')
    assert boxes.count() == 5
    for box in boxes.all()[-2:]:
        box.check()
    analyst.get_by_role("button", name="Split off").click()
    expect(analyst.locator("tr.evidence")).to_have_count(3)
    assert urlsplit(analyst.url).path == f"/developments/{meeting}"
    analyst.locator("li.feedback-record", has_text="split of").get_by_role("link").click()
    analyst.wait_for_url(lambda address: not address.endswith(f"/developments/{meeting}"))
    split_off = int(urlsplit(analyst.url).path.rsplit("/", 1)[1])
    assert analyst.locator("tr.evidence").count() == 2
    analyst.goto("/")
    assert [row["category"] for row in listed(analyst)].count("ministerial_meeting") == 2

    analyst.goto(f"/developments/{split_off}")
    form = analyst.locator('form[action$="/merge"]')
    form.get_by_label("Development #").fill(str(meeting))
    form.get_by_role("button", name="Merge into").click()
    analyst.wait_for_url(f"**/developments/{meeting}")
    assert analyst.locator("tr.evidence").count() == 5
    analyst.goto(f"/developments/{split_off}")
    merged_note = analyst.locator("p.dismissed").inner_text()
    assert merged_note.startswith(f"Merged into development {meeting}")
    analyst.goto("/")
    assert len(listed(analyst)) == 4


@pytest.mark.usefixtures("prefect_harness")
def test_a_false_alarm_marked_in_the_browser_sends_no_further_alerts(
    chromium: Browser, sqlite_url: str, tmp_path: Path, http: HttpReceiver
) -> None:
    """Issue 12's done-when, all of it: the announcements alert the meeting; marked a false
    alarm by clicking in Chromium, the held reports (which would move it to occurred) send
    nothing for it, while the exercise they also report still alerts."""
    subscribers = write_subscribers(tmp_path, [(hook_url(http.port), "")])
    first = replay_seed_part(sqlite_url, tmp_path / "announced", ANNOUNCED, subscribers, http)
    meeting = next(p for p in first if p["category"] == "ministerial_meeting")
    assert meeting["status"] == "planned"

    with (
        serving(config_for(sqlite_url, token=TOKEN)) as client,
        browser_tab(chromium, str(client.base_url)) as tab,
    ):
        log_in(tab)
        assert open_development(tab, "ministerial_meeting") == meeting["development_id"]
        mark_false_alarm(tab, "dana")
        assert (
            tab.locator("li.feedback-record")
            .all_inner_texts()[0]
            .startswith("false alarm by dana at")
        )

    later = replay_seed_part(sqlite_url, tmp_path / "held", HELD, subscribers, http)
    assert meeting["development_id"] not in {p["development_id"] for p in later}
    assert ("military_exercise", "planned") in {(p["category"], p["status"]) for p in later}
