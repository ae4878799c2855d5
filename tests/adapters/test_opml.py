"""OPML in and out, and appending its feeds to a sources file: folders and categories become
tags, malformed or hostile OPML is one ConfigError with its line, the sources file keeps every
byte it had, and export -> read gives back the same feeds."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from xml.etree import ElementTree

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.sources.file import load_sources
from adapters.sources.opml import OpmlFeed, read_opml, write_opml
from adapters.sources.opml_import import plan_import, unique_name
from core.errors import ConfigError, ConfigValidationError
from core.model import SourceSpec

READER_EXPORT = """<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0">
  <head><title>Subscriptions</title></head>
  <body>
    <outline text="Korea" title="Korea">
      <outline type="rss" text="Yonhap &amp; Co" title="Yonhap" xmlUrl="https://en.yna.co.kr/RSS/nk.xml"
               htmlUrl="https://en.yna.co.kr/"/>
      <outline text="Analysis">
        <outline type="rss" text="  NK   News " xmlUrl=" https://www.nknews.org/feed/ "
                 category="/analysis/deep,lang:en, ,/"/>
      </outline>
    </outline>
    <outline type="rss" title="Title\u009b31m only" XMLURL="https://t.example/feed.xml"/>
    <outline text="Empty folder"/>
  </body>
</opml>
""".encode()


def test_feeds_with_folders_and_categories_as_tags() -> None:
    feeds = read_opml(READER_EXPORT, "subs.opml")  # a C1 control (CSI) read as a space
    assert feeds == [
        OpmlFeed(
            "Yonhap & Co", "https://en.yna.co.kr/RSS/nk.xml", "https://en.yna.co.kr/", ("Korea",), 6
        ),
        OpmlFeed(
            "NK News",
            "https://www.nknews.org/feed/",
            None,
            ("Korea", "Analysis", "analysis/deep", "lang:en"),
            9,
        ),
        OpmlFeed("Title 31m only", "https://t.example/feed.xml", None, (), 13),
    ]


BILLION_LAUGHS = (
    b'<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
    + b"".join(
        b' <!ENTITY lol%d "%s">\n' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
        for i in range(1, 10)
    )
    + b']>\n<opml version="2.0"><body><outline text="&lol9;" xmlUrl="http://a.example/"/>'
    b"</body></opml>"
)
XXE = (
    b'<?xml version="1.0"?>\n<!DOCTYPE opml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
    b'<opml version="2.0"><body><outline text="&xxe;" xmlUrl="http://a.example/"/></body></opml>'
)


@pytest.mark.parametrize(
    ("data", "line", "says"),
    [
        (b"", 1, "not well-formed XML: no element found"),
        (b"<opml>\n<body>\n<outline xmlUrl='http://a/b'>\n</opml>", 4, "mismatched tag"),
        (b"just text", 1, "not well-formed XML: syntax error"),
        (b'<?xml version="1.0"?>\n<rss version="2.0"/>', 2, "root element is <rss>, not <opml>"),
        (b'<?xml version="1.0"?>\n<opml version="2.0">\n<head/></opml>', 2, "no <body> in <opml>"),
        (b"<opml><body><outline text='\xff'/></body></opml>", 1, "not well-formed XML"),
        (BILLION_LAUGHS, 2, "refused: DTDForbidden"),
        (XXE, 2, "refused: DTDForbidden"),
    ],
)
def test_malformed_or_hostile_opml_is_one_error_with_its_line(
    data: bytes, line: int, says: str
) -> None:
    started = time.monotonic()
    with pytest.raises(ConfigError) as refused:
        read_opml(data, "subs.opml")
    assert (refused.value.path, refused.value.line) == ("subs.opml", line)
    assert says in refused.value.reason
    assert "root:" not in str(refused.value)  # /etc/passwd was never read
    # Nothing expanded: a billion laughs would take far longer (the bound is for a loaded
    # machine running tests in parallel; not a speed assertion).
    assert time.monotonic() - started < 5


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_any_bytes_read_or_are_refused_with_a_line(data: bytes) -> None:
    try:
        feeds = read_opml(data, "x.opml")
    except ConfigError as exc:
        assert exc.path == "x.opml" and isinstance(exc.line, int) and exc.line >= 1
    else:
        assert all(isinstance(f, OpmlFeed) and f.xml_url for f in feeds)


NAMES = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40).filter(
    lambda s: s.split() != [] and "\n" not in s
)
TAGS = st.lists(
    st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=12).filter(
        lambda t: "," not in t and t.strip().strip("/").strip() == t and t.split() == [t]
    ),
    max_size=3,
    unique=True,
)


# What XML can carry (no control characters or noncharacters).
XML_NAMES = st.text(st.characters(blacklist_categories=("Cs", "Cc", "Cn")), min_size=1).filter(
    lambda s: s.split() != []
)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(XML_NAMES, TAGS), min_size=1, max_size=5))
def test_export_then_read_gives_the_same_feeds(sources: list[tuple[str, list[str]]]) -> None:
    specs = [
        SourceSpec(name, "rss", f"https://feeds.example.org/{i}?a=1&b=<2>", tags=tuple(tags))
        for i, (name, tags) in enumerate(sources)
    ]
    document = write_opml(specs, "Watchfloor & co <sources>", datetime(2026, 12, 3, tzinfo=UTC))
    ElementTree.fromstring(document)  # well-formed XML
    feeds = read_opml(document, "out.opml")
    assert [f.title for f in feeds] == [" ".join(s.name.split()) for s in specs]
    assert [f.xml_url for f in feeds] == [s.location for s in specs]
    assert [f.tags for f in feeds] == [s.tags for s in specs]


def test_export_drops_characters_xml_cannot_carry() -> None:
    spec = SourceSpec("Bell\x07 and\x0bnoise\ufffe", "rss", "https://a.example/f")
    document = write_opml([spec], "t\x00", datetime(2026, 1, 1, tzinfo=UTC))
    (feed,) = read_opml(document, "o.opml")
    assert feed.title == "Bell andnoise"


def test_export_leaves_out_tags_with_a_comma() -> None:
    spec = SourceSpec("A", "rss", "https://a.example/f", tags=("x", "a,b", "y"))
    (feed,) = read_opml(write_opml([spec], "t", datetime(2026, 1, 1, tzinfo=UTC)), "o.opml")
    assert feed.tags == ("x", "y")


# --- appending to a sources file ---------------------------------------------------------------

EXISTING = """\
# Our sources: keep this comment.
defaults:
  poll_interval: 10m   # every ten minutes

sources:
  -   name: NK News
      url: HTTPS://WWW.NKNEWS.ORG/feed/
      tags: [region:korea]
  - name: Old Yonhap
    url: https://en.yna.co.kr/old.xml
    enabled: false

  # trailing notes about the list
"""


def feed(title: str, url: str, *tags: str) -> OpmlFeed:
    return OpmlFeed(title, url, None, tuple(tags), 1)


def test_append_keeps_every_existing_line_and_skips_known_urls() -> None:
    feeds = [
        feed("NK News", "https://www.nknews.org/feed/"),  # already there (host case differs)
        feed("old yonhap", "https://en.yna.co.kr/new.xml", "Korea"),  # name taken (disabled)
        feed('Fresh: a "quoted" #name', "https://fresh.example/rss?x=1&y=2"),
        feed('Fresh: a "quoted" #name', "https://fresh.example/other"),
        feed("FTP", "ftp://files.example/feed"),
        feed("", "https://untitled.example/feed"),
        feed("Dup in file", "https://fresh.example/rss?x=1&y=2"),
    ]
    plan = plan_import(EXISTING, "sources.yaml", feeds, "subs.opml")
    assert [(s.name, s.url, s.tags) for s in plan.added] == [
        ("old yonhap (2)", "https://en.yna.co.kr/new.xml", ("Korea",)),
        ('Fresh: a "quoted" #name', "https://fresh.example/rss?x=1&y=2", ()),
        ('Fresh: a "quoted" #name (2)', "https://fresh.example/other", ()),
        ("https://untitled.example/feed", "https://untitled.example/feed", ()),
    ]
    assert [f.title for f in plan.present] == ["NK News", "Dup in file"]
    assert [(f.title, "http" in why) for f, why in plan.unusable] == [("FTP", True)]
    # Every old line is still there, in order; the new items sit right after the last one,
    # at its indentation, before the trailing comment.
    old_lines = EXISTING.splitlines()
    new_lines = plan.text.splitlines()
    at = new_lines.index("  # imported from subs.opml")
    assert new_lines[:at] == old_lines[:11]
    assert new_lines[-2:] == old_lines[-2:]
    assert new_lines[at + 1] == "  -   name: old yonhap (2)"
    assert new_lines[at + 2] == "      url: https://en.yna.co.kr/new.xml"
    specs = load_sources(plan.text, "sources.yaml")
    assert [s.name for s in specs][-4:] == [s.name for s in plan.added]
    assert specs[-1].poll_interval_s == 600  # the defaults apply to them too


def test_empty_new_or_flow_files_get_a_block_list() -> None:
    feeds = [feed("A", "https://a.example/f", "t")]
    for text in ("", "# just a comment", "# c\n\n"):
        plan = plan_import(text, "s.yaml", feeds, "x.opml")
        assert plan.text.startswith(text)
        assert [s.name for s in load_sources(plan.text, "s.yaml")] == ["A"]
    plan = plan_import("sources: []  # none yet\ndefaults: {tags: [en]}\n", "s.yaml", feeds, "x")
    assert plan.text.startswith("sources:  # none yet\n")
    assert [(s.name, s.tags) for s in load_sources(plan.text, "s.yaml")] == [("A", ("t",))]
    with pytest.raises(ConfigError, match="flow list"):
        plan_import("sources: [{name: B, url: 'https://b.example/'}]\n", "s.yaml", feeds, "x")


def test_a_broken_sources_file_is_refused_before_anything_is_added() -> None:
    with pytest.raises(ConfigValidationError) as refused:
        plan_import("sources:\n  - name: x\n    url: ftp://x/\n", "s.yaml", [], "x")
    assert [(e.path, e.line) for e in refused.value.errors] == [("s.yaml", 3)]


def test_nothing_new_leaves_the_text_as_it_was() -> None:
    plan = plan_import(EXISTING, "s.yaml", [feed("x", "https://www.nknews.org/feed/")], "x")
    assert plan.text == EXISTING and plan.added == ()


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(NAMES, TAGS), min_size=1, max_size=6))
def test_any_titles_and_tags_append_to_a_file_that_loads(
    outlines: list[tuple[str, list[str]]],
) -> None:
    feeds = [feed(t, f"https://f.example/{i}", *tags) for i, (t, tags) in enumerate(outlines)]
    plan = plan_import(EXISTING, "s.yaml", feeds, "any.opml")
    specs = load_sources(plan.text, "s.yaml")
    added = specs[-len(feeds) :]
    assert [(s.location, s.tags) for s in added] == [(f.xml_url, f.tags) for f in feeds]
    assert len({s.name.casefold() for s in specs}) == len(specs)


def test_unique_name_suffixes_and_limits() -> None:
    assert unique_name("A", {"a", "a (2)"}) == "A (3)"
    assert unique_name(" \t ", set()) == "feed"
    assert len(unique_name("x" * 1000, set())) == 200
