"""Feedback through the console: real HTTP to the app served by uvicorn over SQLite stores made
by real replays. Writes need the token and the page's CSRF field; a false alarm marked here
sends nothing more for its development while the others still alert."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

import db
from flows.context.runtime import transaction
from tests.notify.alertkit import hook_url, write_subscribers
from tests.notify.receivers import HttpReceiver
from tests.web.webkit import (
    ANNOUNCED,
    BEARER,
    HELD,
    TOKEN,
    config_for,
    csrf_of,
    development_ids,
    replay_seed_part,
    serving,
    sqlite_copy,
)


def evidence_ids(page: str) -> list[int]:
    return [int(i) for i in re.findall(r'name="evidence" value="(\d+)"', page)]


@pytest.fixture
def console(seed_store: str, tmp_path: Path) -> Iterator[httpx.Client]:
    """The console with a token over a copy of the seeds' store, logged in by cookie."""
    with serving(config_for(sqlite_copy(seed_store, tmp_path), token=TOKEN)) as client:
        assert client.get("/login", params={"token": TOKEN}).status_code == 303
        yield client


def test_without_a_token_the_page_says_how_and_posts_are_refused(
    seed_store: str, tmp_path: Path
) -> None:
    url = sqlite_copy(seed_store, tmp_path)
    with serving(config_for(url)) as client:
        ids = development_ids(client)
        page = client.get(f"/developments/{ids['missile_launch']}").text
        assert "WATCHFLOOR_WEB_TOKEN" in page
        assert "Mark false alarm" not in page and 'name="csrf"' not in page
        for action, form in [
            ("false-alarm", {}),
            ("merge", {"into": str(ids["summit"])}),
            ("split", {"evidence": "1"}),
        ]:
            answer = client.post(f"/developments/{ids['missile_launch']}/{action}", data=form)
            assert answer.status_code == 403
            assert "WATCHFLOOR_WEB_TOKEN" in answer.text
        assert set(development_ids(client)) == set(ids)  # nothing changed
    with transaction(url) as session:
        assert db.list_feedback(session) == []


def test_posts_need_the_token_and_the_csrf_field(console: httpx.Client) -> None:
    ids = development_ids(console)
    target = f"/developments/{ids['missile_launch']}/false-alarm"
    page = console.get(f"/developments/{ids['missile_launch']}").text
    csrf = csrf_of(page)
    assert TOKEN not in page
    assert console.post(target, data={}).status_code == 403  # no CSRF field
    assert console.post(target, data={"csrf": "0" * 64}).status_code == 403
    assert console.post(target, data={"csrf": csrf + "0"}).status_code == 403
    stranger = httpx.post(str(console.base_url) + target, data={"csrf": csrf})
    assert stranger.status_code == 401  # the CSRF field alone is no way in
    # An oversized body is refused without being held whole, streamed in chunks or not.
    chunks = (b"by=" + b"x" * 65536 for _ in range(64))
    assert console.post(target, content=chunks).status_code == 413
    assert console.post(target, data={"csrf": csrf, "by": "x" * 70000}).status_code == 413
    assert "missile_launch" in development_ids(console)  # still live
    done = console.post(target, data={"csrf": csrf, "by": "alice"})
    assert done.status_code == 303
    assert "missile_launch" not in development_ids(console)


def test_mark_a_false_alarm_and_restore_it(console: httpx.Client) -> None:
    ids = development_ids(console)
    launch = ids["missile_launch"]
    csrf = csrf_of(console.get(f"/developments/{launch}").text)
    marked = console.post(f"/developments/{launch}/false-alarm", data={"csrf": csrf, "by": "alice"})
    assert marked.status_code == 303 and marked.headers["location"] == f"/developments/{launch}"
    page = console.get(f"/developments/{launch}").text
    assert "Marked a false alarm" in page and "false alarm by alice" in page
    assert "Mark false alarm" not in page  # done once
    # Gone from the list, the API and the feeds; back with the explicit filter.
    assert f'href="/developments/{launch}"' not in console.get("/").text
    assert launch not in development_ids(console).values()
    atom = console.get("/feeds/developments.atom", params={"category": "missile_launch"}).text
    assert f"urn:watchfloor:development:{launch}" not in atom
    assert development_ids(console, dismissed="false_alarm") == {"missile_launch": launch}
    assert launch in development_ids(console, dismissed="all").values()
    assert f'href="/developments/{launch}"' in console.get("/?dismissed=false_alarm").text
    assert console.get("/api/developments?dismissed=bogus", headers=BEARER).status_code == 400

    restored = console.post(f"/developments/{launch}/restore", data={"csrf": csrf})
    assert restored.status_code == 303
    assert development_ids(console)["missile_launch"] == launch
    assert "restore by web" in console.get(f"/developments/{launch}").text


def test_split_then_merge_back(console: httpx.Client) -> None:
    """The seeds hold one development per category: split two reports off the meeting, then
    merge them back (a merge across categories is refused)."""
    ids = development_ids(console)
    meeting = ids["ministerial_meeting"]
    page = console.get(f"/developments/{meeting}").text
    csrf = csrf_of(page)
    chosen = evidence_ids(page)[-2:]
    split = console.post(
        f"/developments/{meeting}/split",
        data={"csrf": csrf, "by": "bob", "evidence": [str(i) for i in chosen]},
    )
    assert split.status_code == 303
    after = console.get(f"/developments/{meeting}").text
    assert sorted(evidence_ids(after)) == sorted(set(evidence_ids(page)) - set(chosen))
    new_id = int(re.findall(r'split of \d+ into <a href="/developments/(\d+)">', after)[0])
    assert sorted(evidence_ids(console.get(f"/developments/{new_id}").text)) == sorted(chosen)

    refused = console.post(
        f"/developments/{new_id}/merge", data={"csrf": csrf, "into": str(ids["summit"])}
    )
    assert refused.status_code == 400 and "one category" in refused.text
    assert (
        console.post(f"/developments/{new_id}/merge", data={"csrf": csrf, "into": "x"}).status_code
        == 400
    )

    merged = console.post(
        f"/developments/{new_id}/merge", data={"csrf": csrf, "by": "bob", "into": str(meeting)}
    )
    assert merged.status_code == 303 and merged.headers["location"] == f"/developments/{meeting}"
    assert sorted(evidence_ids(console.get(f"/developments/{meeting}").text)) == sorted(
        evidence_ids(page)
    )
    gone = console.get(f"/developments/{new_id}").text
    assert f'Merged into <a href="/developments/{meeting}">' in gone
    assert new_id not in development_ids(console).values()
    assert new_id in development_ids(console, dismissed="merged").values()


def test_a_split_of_nothing_or_of_foreign_evidence_is_refused(console: httpx.Client) -> None:
    ids = development_ids(console)
    launch, exercise = ids["missile_launch"], ids["military_exercise"]
    csrf = csrf_of(console.get(f"/developments/{launch}").text)
    foreign = evidence_ids(console.get(f"/developments/{exercise}").text)[0]
    for form in [{}, {"evidence": str(foreign)}, {"evidence": "abc"}]:
        answer = console.post(f"/developments/{launch}/split", data={"csrf": csrf, **form})
        assert answer.status_code == 400, form
    assert console.post("/developments/999/false-alarm", data={"csrf": csrf}).status_code == 400


# --- a false alarm stops the alerts -------------------------------------------------------


@pytest.mark.usefixtures("prefect_harness")
def test_a_false_alarm_marked_in_the_console_sends_no_further_alerts(
    sqlite_url: str, tmp_path: Path, http: HttpReceiver
) -> None:
    """The held reports (webkit.HELD) would move the meeting to occurred and alert that: marked
    a false alarm after the announcements, they join it silently, while the exercise they also
    report still alerts."""
    subscribers = write_subscribers(tmp_path, [(hook_url(http.port), "")])
    first = replay_seed_part(sqlite_url, tmp_path / "announced", ANNOUNCED, subscribers, http)
    meeting = next(p for p in first if p["category"] == "ministerial_meeting")
    assert meeting["status"] == "planned"

    with serving(config_for(sqlite_url, token=TOKEN)) as client:
        client.get("/login", params={"token": TOKEN})
        page = client.get(f"/developments/{meeting['development_id']}").text
        marked = client.post(
            f"/developments/{meeting['development_id']}/false-alarm",
            data={"csrf": csrf_of(page), "by": "carol"},
        )
        assert marked.status_code == 303

    later = replay_seed_part(sqlite_url, tmp_path / "held", HELD, subscribers, http)
    assert meeting["development_id"] not in {p["development_id"] for p in later}
    assert ("military_exercise", "planned") in {(p["category"], p["status"]) for p in later}
    with transaction(sqlite_url) as session:
        (stored,) = db.list_developments(session, [meeting["development_id"]])
        meetings = [v for v in db.list_developments(session) if v.category == "ministerial_meeting"]
    # The held reports joined the dismissed meeting rather than starting one that alerts, and
    # moved it to occurred: a live development would have alerted that move.
    assert [v.id for v in meetings] == [meeting["development_id"]]
    assert stored.status == "occurred" and stored.dismissed_as == "false_alarm"
    assert any(guid.startswith(("002", "003")) for guid in stored.evidence)
