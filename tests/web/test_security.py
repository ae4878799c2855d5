"""Feed text is escaped wherever it is shown, secrets never leave the store, and a configured
token guards every request."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import update

from db import create_engine_for
from db.models import articles, developments, evidence, sources
from tests.web.webkit import APPRISE_SECRET, TOKEN, config_for, serving, sqlite_copy

SCRIPT = "<script>alert(1)</script>"
ATTRIBUTE = '"><img src=x onerror=alert(1)>'
ENTITY = "&lt;script&gt;alert(2)&lt;/script&gt;"
SOURCE_PASSWORD = "hunter2-source-pw"
SOURCE_KEY = "topsecret-source-key"


def _plant_payloads(url: str) -> None:
    """Hostile text where feeds put text: titles, snippets, places, links and a source address
    with credentials in it."""
    engine = create_engine_for(url)
    with engine.begin() as conn:
        conn.execute(update(articles).values(title=f"Breaking {SCRIPT} {ATTRIBUTE} {ENTITY}"))
        conn.execute(update(articles).values(url="javascript:alert(3)"))
        conn.execute(update(evidence).values(snippet=f"snippet {SCRIPT} {ATTRIBUTE} {ENTITY}"))
        conn.execute(update(developments).values(title=f"Dev {ATTRIBUTE} {SCRIPT}", place=ENTITY))
        conn.execute(
            update(sources).values(
                location=f"https://reader:{SOURCE_PASSWORD}@feeds.example/rss?apikey={SOURCE_KEY}",
                last_error=f"failed {SCRIPT}",
            )
        )
    engine.dispose()


@pytest.fixture(scope="module")
def hostile(seed_store: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    url = sqlite_copy(seed_store, tmp_path_factory.mktemp("hostile"))
    _plant_payloads(url)
    with serving(config_for(url)) as client:
        yield client


def _every_page(client: httpx.Client) -> dict[str, httpx.Response]:
    ids = [d["id"] for d in client.get("/api/developments").json()]
    paths = ["/", "/sources", "/api/developments", "/feeds/developments.atom", "/healthz"]
    paths += [f"/developments/{i}" for i in ids]
    paths += ["/developments/424242", "/?date_from=nope", "/?text=%3Cscript%3E"]
    return {path: client.get(path) for path in paths}


def test_script_attribute_and_entity_payloads_are_escaped_in_pages(hostile: httpx.Client) -> None:
    pages = {p: r.text for p, r in _every_page(hostile).items() if p.startswith("/d") or p == "/"}
    assert len(pages) >= 5
    for path, html in pages.items():
        assert "<script" not in html, path
        assert "<img" not in html, path
        assert 'href="javascript:' not in html, path
    meeting = next(html for path, html in pages.items() if "Breaking" in html)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in meeting
    assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in meeting
    assert "&amp;lt;script&amp;gt;alert(2)" in meeting  # the entity text shows as typed
    sources_page = hostile.get("/sources").text
    assert "<script" not in sources_page and "&lt;script&gt;" in sources_page


def test_the_atom_feed_carries_payloads_as_text(hostile: httpx.Client) -> None:
    body = hostile.get("/feeds/developments.atom").content
    assert b"<script" not in body and b"<img" not in body
    root = ET.fromstring(body)
    ns = {"a": "http://www.w3.org/2005/Atom"}
    titles = [t.text or "" for t in root.iterfind("a:entry/a:title", ns)]
    assert titles and all(f"Dev {ATTRIBUTE} {SCRIPT}" in title for title in titles)


def test_no_secret_in_any_page_answer_or_error(hostile: httpx.Client) -> None:
    answers = _every_page(hostile)
    assert answers["/developments/424242"].status_code == 404
    assert answers["/?date_from=nope"].status_code == 400
    for path, answer in answers.items():
        for secret in (APPRISE_SECRET, SOURCE_PASSWORD, SOURCE_KEY):
            assert secret not in answer.text, (path, secret)
    assert "https://feeds.example/rss" in answers["/sources"].text


@pytest.fixture(scope="module")
def guarded(seed_store: str) -> Iterator[httpx.Client]:
    with serving(config_for(seed_store, token=TOKEN)) as client:
        yield client


@pytest.mark.parametrize(
    "path", ["/", "/sources", "/api/developments", "/feeds/developments.atom", "/healthz"]
)
def test_a_token_guards_every_request(guarded: httpx.Client, path: str) -> None:
    refused = guarded.get(path)
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"] == "Bearer"
    assert guarded.get(path, headers={"Authorization": "Bearer wrong-token"}).status_code == 401
    allowed = guarded.get(path, headers={"Authorization": f"Bearer {TOKEN}"})
    assert allowed.status_code in (200, 503)  # /healthz answers 503 when unhealthy
    assert allowed.status_code == 200 or path == "/healthz"


def test_login_sets_a_cookie_that_opens_the_console(seed_store: str) -> None:
    with serving(config_for(seed_store, token=TOKEN)) as client:
        assert client.get("/login", params={"token": "wrong"}).status_code == 401
        assert client.get("/").status_code == 401
        login = client.get("/login", params={"token": TOKEN})
        assert login.status_code == 303
        cookie = login.headers["set-cookie"]
        assert TOKEN not in cookie
        assert "httponly" in cookie.lower() and "samesite=strict" in cookie.lower()
        assert client.get("/").status_code == 200  # the client keeps the cookie
        assert client.get("/api/developments").status_code == 200
        client.cookies.clear()
        client.cookies.set("watchfloor_session", "forged")
        assert client.get("/").status_code == 401


def test_without_a_token_no_login_is_needed(seed_store: str) -> None:
    with serving(config_for(seed_store)) as client:
        assert client.get("/").status_code == 200
        assert (
            client.get("/login", params={"token": "anything"}, follow_redirects=False).status_code
            == 303
        )
