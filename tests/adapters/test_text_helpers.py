"""The small pure helpers: links, HTML to text, charsets, Retry-After, titles, boilerplate."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters import FetchContext, get_adapter
from adapters.feeds.charset import choose_encoding, header_charset, xml_declared_encoding
from adapters.net.fetch import parse_retry_after
from adapters.text.boilerplate import (
    _INLINE_SIGN_OFF,
    BOILERPLATE,
    _has_sign_off_dash,
    _matching,
    strip_boilerplate,
)
from adapters.text.htmltext import html_to_text
from adapters.text.links import canonical_url, display_url
from adapters.text.titles import first_sentence, infer_title, shorten
from core.model import SourceState
from tests.adapters.adapterkit import rss_spec
from tests.adapters.feedserver import FeedServer


@pytest.mark.parametrize(
    ("link", "base", "expected"),
    [
        ("https://a.example/x?utm_source=rss&id=3#top", None, "https://a.example/x?id=3"),
        ("/n/1?fbclid=abc&gclid=def", "https://b.example/feed.xml", "https://b.example/n/1"),
        ("2026/01/story.html", "https://c.example/news/rss", "https://c.example/news/2026/01/story.html"),
        ("HTTPS://D.Example/Path?Q=1&UTM_Campaign=x", None, "https://d.example/Path?Q=1"),
        ("https://e.example/a?q=a%20b&utm_medium=feed&x", None, "https://e.example/a?q=a%20b&x"),
        ("https://f.example", None, "https://f.example/"),
        ("mailto:desk@example.org", None, None),
        ("javascript:void(0)", "https://g.example/", None),
        ("", "https://g.example/", None),
        (None, None, None),
    ],
)  # fmt: skip
def test_canonical_url(link: str | None, base: str | None, expected: str | None) -> None:
    assert canonical_url(link, base) == expected


def test_html_to_text() -> None:
    html = (
        "<div><p>First &amp; foremost&nbsp;— &#8220;quoted&#8221;</p><script>var x=1;</script>"
        "<style>p{}</style><ul><li>one</li><li>two</li></ul>line<br/>break  &lt;tag&gt;</div>"
    )
    assert html_to_text(html) == "First & foremost — “quoted”\n\none\ntwo\n\nline\nbreak <tag>"
    assert html_to_text("plain   text\n\n\n\nnext") == "plain text\n\nnext"
    assert html_to_text("") == ""


def _tidy_as_written(text: str) -> str:
    """The cleanup html_to_text ends with, collapsing spaces unconditionally."""
    lines = re.sub(r"[ \t\r\f\v\u00a0]+", " ", text).split("\n")
    return re.sub(r"\n\s*\n+", "\n\n", "\n".join(line.strip() for line in lines)).strip()


@settings(max_examples=500, deadline=None, derandomize=True)
@given(text=st.text(alphabet=" \t\r\f\v\u00a0\u3000\nab<>&;", max_size=40))
def test_html_to_text_skips_the_space_collapse_only_where_it_changes_nothing(text: str) -> None:
    plain = text.replace("<", "").replace("&", "")  # no tags, no entities: only the cleanup
    assert html_to_text(plain) == _tidy_as_written(plain)


def test_charset_helpers() -> None:
    assert header_charset("text/xml; charset=EUC-KR") == "EUC-KR"
    assert header_charset('application/rss+xml; charset="utf-8"') == "utf-8"
    assert header_charset("text/xml") is None and header_charset(None) is None
    assert xml_declared_encoding(b"<?xml version='1.0' encoding='Shift_JIS'?><rss/>") == (
        "Shift_JIS"
    )
    assert xml_declared_encoding(b"<rss/>") is None


@pytest.mark.parametrize(
    ("text", "encoding", "content_type", "expected"),
    [
        ("ascii only", "ascii", "text/xml; charset=iso-8859-1", None),  # feedparser decides
        ("한국어 기사", "utf-8", "text/xml; charset=iso-8859-1", "utf-8"),  # UTF-8 beats the header
        ("한국어 기사 본문입니다", "euc-kr", "text/xml; charset=windows-1252", None),  # see below
    ],
)
def test_choose_encoding(text: str, encoding: str, content_type: str, expected: str | None) -> None:
    body = f'<?xml version="1.0"?><rss><title>{text}</title></rss>'.encode(encoding)
    chosen = choose_encoding(body, content_type)
    if expected is None and encoding == "euc-kr":
        # Nothing but a wrong single-byte header: the detector must find a Korean codec.
        assert chosen is not None and body.decode(chosen).count("한국어") == 1
    else:
        assert chosen == expected


def test_parse_retry_after() -> None:
    now = datetime(2026, 1, 28, 12, 0, tzinfo=UTC)
    assert parse_retry_after("120") == 120
    assert parse_retry_after(" 0 ") == 0
    assert parse_retry_after("Wed, 28 Jan 2026 12:05:00 GMT", now) == 300
    assert parse_retry_after("Wed, 28 Jan 2026 11:00:00 GMT", now) == 0  # in the past
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None and parse_retry_after("") is None


def test_first_sentence_and_titles() -> None:
    assert first_sentence("The U.S. Navy and Gen. Kim met on Jan. 5. Then more.") == (
        "The U.S. Navy and Gen. Kim met on Jan. 5."
    )
    assert (
        first_sentence("北朝鮮がミサイルを発射した。詳細は不明。") == "北朝鮮がミサイルを発射した。"
    )
    assert first_sentence("No end mark here\nsecond line") == "No end mark here"
    assert first_sentence('He said "Stop." Then left.') == 'He said "Stop."'
    long = "word " * 60
    assert len(infer_title(long)) <= 120 and infer_title(long).endswith("…")
    assert shorten("短" * 200, 50) == "短" * 49 + "…"
    assert shorten("short", 50) == "short"


# --- boilerplate -------------------------------------------------------------------------------


def test_boilerplate_rules_are_data() -> None:
    names = [rule.name for rule in BOILERPLATE]
    assert len(names) == len(set(names))
    assert {"reader comments", "share prompt", "reading time", "agency sign-off"} <= set(names)


@pytest.mark.parametrize(
    ("text", "kept", "gone"),
    [
        (
            "Body text.\n\n- IANS\n\nShare this article:\n\nReader Comments\n\nP\nPriya\nNice.",
            "Body text.",
            ["IANS", "Share", "Reader", "Priya"],
        ),
        ("Body text.\n\n--IANS\n\nakl/sd", "Body text.", ["IANS", "akl/sd"]),
        ("T\n2 min read\nKey Points:\n  • one\n  • two\nText.", "Points:\n  • one", ["min read"]),
        ("Text.\n(END)\n", "Text.", ["(END)"]),
        ("Text goes on. ==Kyodo", "Text goes on.", ["Kyodo"]),
        ("Text.\n(Reporting by A; Editing by B)", "Text.", ["Reporting"]),
        ("Before.\nComments (12)\nafter", "Before.", ["after"]),
    ],
)  # fmt: skip
def test_strip_boilerplate(text: str, kept: str, gone: list[str]) -> None:
    result = strip_boilerplate(text)
    assert kept in result.text
    for fragment in gone:
        assert fragment not in result.text
    assert result.removed


def test_boilerplate_words_inside_sentences_stay() -> None:
    text = (
        "Readers left comments on the ministry's site. The agency (IANS) reported it.\n"
        "He said the share of exports rose, a 2 min read at most.\n"
        "- IANS reported this first, then Yonhap."
    )
    result = strip_boilerplate(text)
    assert result.text == text and result.removed == ()


# Pieces of real boilerplate lines and of prose, so that generated lines often come close to a
# rule (or to several) and sometimes match one.
_LINE_PIECES = st.sampled_from(
    [
        "Reader Comments", "comments (12)", "3 comments", "Leave a comment", "Related stories:",
        "You may also like", "Share this article:", "Share on Facebook Twitter", "2 min read",
        "Advertisement", "Sponsored content", "Follow us on X", "Subscribe to our newsletter",
        "Read more: ", "Listen to this article", "© 2026 Yonhap", "All rights reserved.",
        "--IANS", "- Kyodo /", "(END)", "-end-", "###", "akl/sd", "(Reporting by A; Editing by B)",
        "ad", "Ad", "the", "ministers met", " ", "\t", "(", ")", "-", "/", ":", "=", "12", "É",
    ]
)  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(_LINE_PIECES, st.text(max_size=12)), max_size=5).map("".join))
def test_one_alternation_per_action_finds_the_rule_trying_each_in_turn_finds(line: str) -> None:
    """The boilerplate fast path (every rule of an action as one alternation) picks the same rule
    as trying the rules one by one in order, which it replaced."""
    for action in ("cut_rest", "drop_line", "trailing"):
        bare = line.strip()
        expected = next(
            (r for r in BOILERPLATE if r.action == action and r.pattern.match(bare)), None
        )
        assert _matching(line, BOILERPLATE, action) == (expected if bare else None)


@settings(max_examples=400, deadline=None)
@given(
    st.lists(st.one_of(_LINE_PIECES, st.sampled_from(["—", "==", "-- ", " Yonhap"])), max_size=6)
)
def test_a_glued_sign_off_is_searched_only_where_a_dash_could_begin_one(pieces: list[str]) -> None:
    """A paragraph without "--", "—" or "==" is not searched for a glued sign-off: the search
    finds none there (every sign-off holds one of them)."""
    line = "Ties deepened." + "".join(pieces)
    if _INLINE_SIGN_OFF.search(line) is not None:
        assert _has_sign_off_dash(line)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://a.example/rss?api_key=s3cret&lang=en", "https://a.example/rss?api_key=***&lang=en"),
        ("https://a.example/rss?token=t&sig=x&apikey=k", "https://a.example/rss?token=***&sig=***&apikey=***"),
        ("https://user:pass@a.example/feed", "https://user:***@a.example/feed"),
        ("https://a.example/feed?keyword=missile", "https://a.example/feed?keyword=missile"),
    ],
)  # fmt: skip
def test_display_url_hides_credentials(url: str, shown: str) -> None:
    assert display_url(url) == shown


def test_errors_never_show_credentials_in_the_url(server: FeedServer, local: FetchContext) -> None:
    spec = rss_spec("s", server.url("/status/404?api_key=s3cret"))
    result = get_adapter("rss", local).fetch(spec, SourceState())
    assert result.status == "error" and result.http_status == 404
    assert "api_key=***" in (result.error or "") and "s3cret" not in (result.error or "")
