"""Feed bytes -> Articles, without the network: links, guids, dates, text, encodings, errors."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from adapters.feeds.parse import parse_feed
from core.errors import PermanentFetchError
from tests.adapters.adapterkit import fixture_bytes

FEED_URL = "https://news.example.kr/rss/nk.xml"


def parse(name: str, content_type: str | None = "application/rss+xml", url: str = FEED_URL):
    return parse_feed(fixture_bytes(name), source="src", url=url, content_type=content_type)


def test_rss2_items_with_cdata_html_relative_links_and_missing_dates() -> None:
    feed = parse("rss2_korea.xml")
    assert feed.version == "rss20" and feed.title == "Peninsula Desk - North Korea"
    first, korean, undated, bare = feed.articles

    assert first.guid == "AEN20260127004851315"
    assert first.url == "https://news.example.kr/view/AEN20260127004851315?section=nk"
    assert first.published == datetime(2026, 1, 27, 7, 32, tzinfo=UTC)  # 16:32 +0900
    # CDATA HTML reduced to text: tags and script gone, entities unescaped, paragraphs kept.
    assert first.text.startswith("SEOUL, Jan. 27 (Yonhap) -- North Korea fired two ballistic")
    assert "350 km & reached" in first.text and "Japan’s defense ministry" in first.text
    assert "<" not in first.text and "trackView" not in first.text
    assert "\n" in first.text

    assert korean.title == "북한, 동해상으로 탄도미사일 2발 발사"
    # Relative link resolved against the feed URL; utm_* and fbclid dropped, page kept.
    assert korean.url == "https://news.example.kr/view/AKR20260127110900504?page=2"
    assert korean.guid == korean.url  # no <guid>: the canonical link stands in
    assert "오후 3시 50분께" in korean.text  # the fuller content:encoded wins over description

    assert undated.published is None
    assert undated.url == "https://news.example.kr/view/AEN20260128001200315"  # gclid dropped

    assert bare.url is None
    assert bare.guid.startswith("sha256:") and len(bare.guid) == 7 + 64
    assert bare.title == "Statement & analysis without a link"
    assert parse("rss2_korea.xml").articles[3].guid == bare.guid  # stable across parses


def test_atom_with_xml_base_html_and_xhtml_titles() -> None:
    feed = parse("atom_japan.xml", "application/atom+xml", "https://www.example.jp/feeds/a.xml")
    assert feed.version == "atom10"
    meeting, protest, quote = feed.articles
    assert meeting.title == "日韓防衛相が横須賀で会談"
    assert meeting.url == "https://www.example.jp/news/20260130/k10014.html"  # xml:base
    assert meeting.guid == "tag:example.jp,2026:defense/0130-1"
    assert meeting.published == datetime(2026, 1, 30, 9, 40, tzinfo=UTC)  # <published> wins
    assert "捜索・救難共同訓練" in meeting.text  # content (longer) rather than summary
    assert protest.title == "Japan protests North Korea missile launch"  # type="html" stripped
    assert protest.url == "https://www.example.jp/en/news/20260127_22/"
    assert protest.published == datetime(2026, 1, 27, 8, 30, tzinfo=UTC)  # from <updated>
    assert quote.title == "Koizumi: ties at a new level"
    assert quote.url == "https://www.example.jp/en/news/20260130_9/"  # fragment dropped
    assert quote.published is None
    assert "“a new level of defense exchanges”" in quote.text


def test_rss1_rdf_with_dc_dates() -> None:
    feed = parse("rdf_taiwan.xml", "application/rdf+xml")
    assert feed.version == "rss10"
    chinese, english = feed.articles
    assert chinese.title == "國防部：共機24架次逾越台海中線"
    assert chinese.published == datetime(2026, 1, 28, 2, 15, tzinfo=UTC)
    assert english.published == datetime(2026, 1, 28, tzinfo=UTC)  # a date alone: 00:00 UTC
    assert english.url == "https://tw.example.org/news/202601280031?lang=en"
    assert (
        english.text
        == "Taiwan's defense ministry said 24 Chinese military aircraft crossed the median line."
    )


@pytest.mark.parametrize("name", ["rss2_korea.xml", "atom_japan.xml", "rdf_taiwan.xml"])
def test_raw_fields_are_json_safe_and_published_is_aware(name: str) -> None:
    for article in parse(name).articles:
        json.dumps(article.raw)
        assert article.published is None or article.published.utcoffset() is not None
        assert article.source == "src" and article.guid and article.title


KO = "북한, 동해상으로 탄도미사일 2발 발사"
JA = "北朝鮮が弾道ミサイル２発を発射 防衛省"  # the ideographic space is normalised to " "
FR = "Pyongyang tire deux missiles balistiques – “une menace”"
ZH = "國防部：共機逾越海峽中線"


@pytest.mark.parametrize(
    ("name", "content_type", "title"),
    [
        ("euc_kr.xml", "application/rss+xml; charset=utf-8", KO),  # header wrong
        ("euc_kr.xml", "text/xml", KO),  # RFC 3023 says us-ascii; the XML says EUC-KR
        ("shift_jis.xml", None, JA),  # no Content-Type at all
        ("shift_jis_nodecl.xml", "application/xml", JA),  # declared nowhere: detected
        ("windows1252.xml", "text/xml", FR),  # declared nowhere, single-byte
        ("big5_tw.xml", "application/rss+xml; charset=iso-8859-1", ZH),  # header wrong
        ("rss2_korea.xml", "text/xml; charset=ISO-8859-1", KO),  # UTF-8 served as Latin-1
    ],
)
def test_encodings(name: str, content_type: str | None, title: str) -> None:
    assert title in [a.title for a in parse(name, content_type).articles]


def test_malformed_feed_yields_what_it_could_read() -> None:
    feed = parse("broken_rss.xml")
    assert [a.url for a in feed.articles] == [
        "https://sloppy.example.com/a/1",
        "https://sloppy.example.com/a/2",
    ]
    assert feed.articles[1].published is None  # "not a date at all"
    assert len(feed.problems) == 1 and "malformed feed, read 2 items anyway" in feed.problems[0]


def test_html_page_is_not_a_feed() -> None:
    with pytest.raises(PermanentFetchError, match=r"not a feed \(text/html, no items found\)"):
        parse("page.html", "text/html; charset=utf-8")


@pytest.mark.parametrize("body", [b"", b"   \n\t"])
def test_empty_body_is_not_a_feed(body: bytes) -> None:
    with pytest.raises(PermanentFetchError, match="not a feed: empty body"):
        parse_feed(body, source="src", url=FEED_URL, content_type="application/rss+xml")


def test_plain_text_is_not_a_feed_but_an_empty_feed_is_fine() -> None:
    with pytest.raises(PermanentFetchError, match="not a feed"):
        parse_feed(b"Service unavailable", source="src", url=FEED_URL, content_type="text/plain")
    empty = b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>'
    feed = parse_feed(empty, source="src", url=FEED_URL, content_type="application/rss+xml")
    assert feed.articles == () and feed.problems == ()


def test_bytes_that_look_like_a_path_are_never_opened(tmp_path) -> None:
    # feedparser treats a str or bytes argument as a URL or file name; we hand it a stream.
    secret = tmp_path / "secret.xml"
    secret.write_bytes(fixture_bytes("rss2_korea.xml"))
    with pytest.raises(PermanentFetchError, match="not a feed"):
        parse_feed(str(secret).encode(), source="src", url=FEED_URL, content_type="text/plain")


def test_item_without_title_gets_one_from_its_text() -> None:
    body = (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><item>'
        b"<description>Japan scrambled jets. More follows later.</description>"
        b"<link>https://x.example/1</link></item></channel></rss>"
    )
    (article,) = parse_feed(body, source="src", url=FEED_URL).articles
    assert article.title == "Japan scrambled jets."
    assert article.raw["title_inferred"] is True


def test_repeated_guids_are_kept_once() -> None:
    item = b"<item><guid>same-id</guid><title>%s</title></item>"
    body = (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
        + item % b"first"
        + item % b"second"
        + b"</channel></rss>"
    )
    feed = parse_feed(body, source="src", url=FEED_URL)
    assert [a.title for a in feed.articles] == ["first"]
    assert feed.problems == ("1 items repeated an earlier item's guid and were skipped",)


def test_items_repeating_a_text_keep_their_own_guid_and_date() -> None:
    # Flash headlines are reused verbatim for new events: each item stays its own publication.
    item = (
        "<item><title>FLASH: N. Korea fires ballistic missile</title>"
        "<description>N. Korea fires ballistic missile toward East Sea: JCS</description>"
        "<guid isPermaLink='false'>{guid}</guid><pubDate>{date}</pubDate></item>"
    )
    body = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Flash</title>'
        + item.format(guid="flash-1", date="Tue, 27 Jan 2026 06:50:00 GMT")
        + item.format(guid="flash-2", date="Sun, 08 Mar 2026 23:15:00 GMT")
        + "</channel></rss>"
    ).encode()
    feed = parse_feed(body, source="src", url=FEED_URL, content_type="application/rss+xml")
    assert [(a.guid, a.published) for a in feed.articles] == [
        ("flash-1", datetime(2026, 1, 27, 6, 50, tzinfo=UTC)),
        ("flash-2", datetime(2026, 3, 8, 23, 15, tzinfo=UTC)),
    ]
    assert feed.articles[0].text == feed.articles[1].text and feed.problems == ()
