"""Messages: content per format, escaping of feed text, safe links, length limits."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from apprise.conversion import markdown_to_html

import notify
from core.model import EvidenceRef
from notify.messages.render import render_test
from tests.notify.notifykit import make_alert

HOSTILE = make_alert(
    title="Launch <script>alert(1)</script> & *bold* [x](javascript:y)",
    place="Sea of Japan & <East Sea>",
    actors=("North Korea", "_Kim_"),
    evidence=(
        EvidenceRef(
            "Yonhap <b>",
            "Title with <img src=x onerror=alert(1)> & `code`",
            "https://yna.example/a?b=1&c=(2)",
        ),
        EvidenceRef("Evil", "# not a heading", "javascript:alert(document.cookie)"),
        EvidenceRef("Quote", 'break "out"', 'https://q.example/x" onmouseover="alert(1)'),
    ),
)


class _Tags(HTMLParser):
    """Collects tags and href attributes of an HTML fragment."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.hrefs: list[str] = []
        self.attrs: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        for name, value in attrs:
            self.attrs.add(name)
            if name == "href":
                self.hrefs.append(value or "")


def _parse(html: str) -> _Tags:
    parser = _Tags()
    parser.feed(html)
    return parser


def test_title_has_category_and_status() -> None:
    title, _ = notify.render(make_alert(), "text", None)
    assert title == "[MISSILE LAUNCH] occurred: North Korea fires two ballistic missiles"
    change = make_alert(
        kind="status_change",
        category="ministerial_meeting",
        status="occurred",
        previous_status="planned",
        title="Japan-South Korea defence ministers meet at Yokosuka",
    )
    title, body = notify.render(change, "text", None)
    assert title == (
        "[MINISTERIAL MEETING] planned -> occurred: "
        "Japan-South Korea defence ministers meet at Yokosuka"
    )
    assert "Status: planned -> occurred (update)" in body


@pytest.mark.parametrize("fmt", notify.FORMATS)
def test_body_says_what_when_where_who_facts_outlets_and_why(fmt: notify.Format) -> None:
    _, body = notify.render(
        make_alert(facts={"count": 2, "apogee_km": 80, "local_time": "15:50", "timezone": "KST"}),
        fmt,
        None,
    )
    for expected in (
        "North Korea fires two ballistic missiles",
        "2026-01-27 15:50 (KST)",
        "northern Pyongyang",
        "North Korea",
        "Count: 2",
        "Apogee: 80 km",
        "3 outlets",
        "Yonhap, NHK, Kyodo",
        "https://yna.example/1",
        "https://nhk.example/2",
        "missile",  # rule id (escaped differently per format)
        "fired, ballistic missiles",
    ):
        assert expected in body, (fmt, expected)


def test_when_without_time_or_date() -> None:
    _, body = notify.render(make_alert(facts={}, event_date=None), "text", None)
    assert "When: date not reported" in body
    _, body = notify.render(make_alert(facts={"local_time": "15:50"}), "text", None)
    assert "When: 2026-01-27 15:50 (local time)" in body


def test_text_keeps_feed_text_readable() -> None:
    title, body = notify.render(HOSTILE, "text", None)
    assert "<script>alert(1)</script> & *bold*" in title
    assert "\x00" not in body


def test_html_escapes_feed_text_and_links_only_http() -> None:
    _, body = notify.render(HOSTILE, "html", None)
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; *bold*" in body
    assert "&lt;img src=x onerror=alert(1)&gt;" in body
    parsed = _parse(body)
    assert parsed.tags <= {"b", "br", "a", "i"}
    assert "onerror" not in parsed.attrs and "onmouseover" not in parsed.attrs
    assert parsed.hrefs == [
        "https://yna.example/a?b=1&c=%282%29",
        "https://q.example/x%22%20onmouseover=%22alert%281%29",
    ]
    assert "javascript:" not in "".join(parsed.hrefs)


def test_markdown_escapes_feed_text() -> None:
    title, body = notify.render(HOSTILE, "markdown", None)
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; \\*bold\\* \\[x\\](javascript:y)" in body
    assert "\\_Kim\\_" in body
    assert "\\# not a heading" in body
    assert (
        "[Title with &lt;img src=x onerror=alert(1)&gt; &amp; \\`code\\`](https://yna.example/a?b=1&c=%282%29)"
        in body
    )
    assert "javascript:alert(document.cookie)" not in body
    # rendered by a Markdown engine (Apprise's own), nothing from the feed becomes markup
    html = markdown_to_html(body)
    parsed = _parse(html)
    assert "script" not in parsed.tags and "img" not in parsed.tags
    assert all(h.startswith("https://") for h in parsed.hrefs)
    assert title.startswith("[MISSILE LAUNCH]")  # titles are plain text in every format


@pytest.mark.parametrize("fmt", notify.FORMATS)
@pytest.mark.parametrize("max_len", [0, 1, 20, 60, 120, 250, 400, 700, 2000])
def test_body_never_exceeds_the_limit(fmt: notify.Format, max_len: int) -> None:
    big = make_alert(facts={f"fact_{i}": "x" * 40 for i in range(40)})
    _, body = notify.render(big, fmt, max_len)
    assert len(body) <= max_len
    _, digest = notify.render_digest([big] * 20, fmt, max_len)
    assert len(digest) <= max_len


@pytest.mark.parametrize("fmt", notify.FORMATS)
def test_truncated_body_ends_with_a_link_to_the_story(fmt: notify.Format) -> None:
    big = make_alert(facts={f"fact_{i}": "x" * 40 for i in range(40)})
    _, full = notify.render(big, fmt, None)
    _, cut = notify.render(big, fmt, 600)
    assert len(full) > 600 >= len(cut)
    assert "message truncated" in cut
    assert "https://yna.example/1" in cut.splitlines()[-1]
    if fmt == "html":
        parser = _parse(cut)
        assert parser.hrefs[-1] == "https://yna.example/1"


def test_truncation_of_html_keeps_elements_whole() -> None:
    big = make_alert(facts={f"fact_{i}": "x" * 40 for i in range(40)})
    _, cut = notify.render(big, "html", 500)
    for line in cut.splitlines():
        assert line.count("<b>") == line.count("</b>")
        assert line.count("<a ") == line.count("</a>")


def test_untruncated_body_is_returned_whole() -> None:
    _, body = notify.render(make_alert(), "text", 100_000)
    assert "truncated" not in body


@pytest.mark.parametrize("fmt", notify.FORMATS)
def test_title_in_body_for_channels_without_titles(fmt: notify.Format) -> None:
    title, body = notify.render(make_alert(), fmt, None, title_in_body=True)
    assert "MISSILE LAUNCH" in body.splitlines()[0]
    assert title.startswith("[MISSILE LAUNCH]")


@pytest.mark.parametrize("fmt", notify.FORMATS)
def test_digest_lists_alerts_and_counts_what_is_left_out(fmt: notify.Format) -> None:
    alerts = [make_alert(id=i, title=f"Launch number {i}") for i in range(1, 6)]
    alerts.append(make_alert(id=9, category="summit", title="Leaders meet <b>&</b>"))
    title, body = notify.render_digest(alerts, fmt, None)
    assert title == "Watchfloor digest: 6 alerts (5 MISSILE LAUNCH, 1 SUMMIT)"
    for i in range(1, 6):
        assert f"Launch number {i}" in body
    assert "<b>&</b>" not in body or fmt == "text"
    _, short = notify.render_digest(alerts, fmt, 700)
    assert len(short) <= 700
    assert "more alerts not shown" in short
    assert "Launch number 1" in short


def test_test_message() -> None:
    title, body = render_test("json://127.0.0.1/hook", "html")
    assert title == "Watchfloor test message"
    assert "json://127.0.0.1/hook" in body


def test_unknown_format() -> None:
    with pytest.raises(ValueError, match="format"):
        notify.render(make_alert(), "rtf", None)  # type: ignore[arg-type]
