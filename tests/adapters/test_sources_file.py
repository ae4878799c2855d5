"""The sources file: loading, defaults, and every validation error with file:line:reason."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest

from adapters import load_sources, load_sources_file
from adapters.sources.file import parse_interval
from core.errors import ConfigValidationError
from tests.adapters.adapterkit import SEEDS

DEPLOY_SOURCES = Path(__file__).resolve().parents[2] / "deploy" / "sources.yaml"


def errors_of(text: str, path: str = "sources.yaml") -> list[str]:
    with pytest.raises(ConfigValidationError) as caught:
        load_sources(text, path)
    return [str(e) for e in caught.value.errors]


def test_shipped_example_file_is_valid_and_never_fetched() -> None:
    specs = load_sources_file(DEPLOY_SOURCES)  # parse and validate only: no network here
    assert len(specs) >= 10
    names = [s.name for s in specs]
    assert len(set(names)) == len(names)
    assert all(s.kind == "rss" for s in specs)  # the seedfiles example is disabled
    assert all(urlsplit(s.location).scheme == "https" for s in specs)
    assert all(s.poll_interval_s >= 60 for s in specs)
    assert all(any(t.startswith("region:") for t in s.tags) for s in specs)
    text = DEPLOY_SOURCES.read_text(encoding="utf-8")
    publishers = ["Yonhap", "NHK", "Kyodo", "Japan Times", "Korea Herald", "NK News", "38 North",
                  "Taiwan News", "SCMP", "Focus Taiwan", "The Diplomat"]  # fmt: skip
    assert all(publisher in text for publisher in publishers)
    assert "EXAMPLES ONLY" in text


def test_full_source_with_defaults() -> None:
    text = """\
defaults:
  poll_interval: 15m
  max_poll_interval: 1h
  tags: [lang:en]
sources:
  - name: Yonhap NK
    url: https://en.yna.co.kr/RSS/northkorea.xml
    tags: [region:korea, lang:en]
    poll_interval: 300
    max_poll_interval: 10m
    headers: {Accept-Language: en, X-Count: 3}
    options: {max_bytes: 1000000, retries: 1}
  - name: Kyodo
    url: https://english.kyodonews.net/rss/all.xml
  - name: Off for now
    url: https://example.org/feed
    enabled: false
"""
    yonhap, kyodo = load_sources(text, "sources.yaml")
    assert yonhap.name == "Yonhap NK" and yonhap.kind == "rss"
    assert yonhap.location == "https://en.yna.co.kr/RSS/northkorea.xml"
    assert yonhap.tags == ("region:korea", "lang:en")
    assert yonhap.poll_interval_s == 300
    assert yonhap.headers == {"Accept-Language": "en", "X-Count": "3"}
    assert yonhap.options == {"max_bytes": 1000000, "retries": 1}
    assert kyodo.poll_interval_s == 900 and kyodo.tags == ("lang:en",)
    assert (yonhap.max_poll_interval_s, kyodo.max_poll_interval_s) == (600, 3600)


def test_seedfiles_source_takes_a_path_relative_to_the_file(tmp_path: Path) -> None:
    config = tmp_path / "conf" / "sources.yaml"
    config.parent.mkdir()
    (tmp_path / "more").mkdir()
    config.write_text(
        f"""\
sources:
  - name: Seeds
    kind: seedfiles
    path: {SEEDS}
  - name: Local
    kind: seedfiles
    path: [../more, ../more]
    options: {{reference_year: 2026}}
""",
        encoding="utf-8",
    )
    seeds, local = load_sources_file(config)
    assert seeds.kind == "seedfiles" and seeds.location == str(SEEDS)
    assert local.location == str(tmp_path / "more")
    assert local.options == {"reference_year": 2026, "paths": (str(tmp_path / "more"),)}


@pytest.mark.parametrize(
    ("value", "seconds"),
    [(600, 600), ("600", 600), ("90s", 90), ("10m", 600), ("10 min", 600), ("1h30m", 5400),
     ("2h", 7200), ("1d", 86400), ("", None), ("ten minutes", None), ("5x", None),
     (True, None), (None, None)],
)  # fmt: skip
def test_parse_interval(value: object, seconds: int | None) -> None:
    assert parse_interval(value) == seconds


def test_every_error_is_reported_with_its_line() -> None:
    text = """\
sources:
  - url: https://no-name.example/feed
  - name: No URL
  - name: Dup
    url: https://a.example/feed
  - name: dup
    url: https://b.example/feed
  - name: FTP
    url: ftp://files.example/feed.xml
  - name: Odd kind
    kind: twitter
    url: https://c.example
  - name: Bad interval
    url: https://d.example/feed
    poll_interval: every now and then
  - name: Too often
    url: https://e.example/feed
    poll_interval: 10s
  - name: Typo
    url: https://f.example/feed
    tag: [region:japan]
  - name: Bad option
    url: https://g.example/feed
    options: {max_byte: 5}
  - name: Seeds gone
    kind: seedfiles
    path: /no/such/folder
  - name: Wrong key for kind
    kind: seedfiles
    url: https://h.example/feed
  - just a string
extra: true
"""
    assert errors_of(text) == [
        "sources.yaml:2: source without a 'name'",
        "sources.yaml:3: source without a 'url'",
        "sources.yaml:6: duplicate source name 'dup' (first defined at line 4)",
        "sources.yaml:9: url 'ftp://files.example/feed.xml' must start with http:// or https://",
        "sources.yaml:11: unknown kind 'twitter' (known: rss, seedfiles)",
        "sources.yaml:15: bad poll_interval 'every now and then': use seconds or a duration "
        "like 90s, 10m, 1h30m",
        "sources.yaml:18: poll_interval '10s' is below the minimum of 60 s "
        "(poll publishers politely)",
        "sources.yaml:21: unknown key 'tag' (known: enabled, headers, kind, max_poll_interval, "
        "name, options, path, poll_interval, tags, timezone, url)",
        "sources.yaml:24: rss source: unknown option 'max_byte' (known: backoff_s, "
        "connect_timeout_s, max_bytes, max_redirects, max_retry_wait_s, read_timeout_s, retries, "
        "total_timeout_s)",
        "sources.yaml:27: path '/no/such/folder' does not exist (looked for /no/such/folder)",
        "sources.yaml:28: source without a 'path'",
        "sources.yaml:30: a seedfiles source takes 'path', not 'url'",
        "sources.yaml:31: each source must be a mapping with at least 'name' and 'url'",
        "sources.yaml:32: unknown top-level key 'extra' (known: defaults, sources)",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "sources.yaml:1: the sources file is empty: expected a 'sources:' list"),
        ("- a\n- b\n", "sources.yaml:1: expected a mapping with a 'sources:' list"),
        ("sources: {a: 1}\n", "sources.yaml:1: 'sources' must be a list of sources"),
        ("sources:\n  - name: [x]\n    url: https://a.example\n",
         "sources.yaml:2: 'name' must be a one-line text, not ['x']"),
        ("sources:\n  - name: a\n    url: https://a.example\n    tags: 5\n",
         "sources.yaml:4: 'tags' must be a list of words, not 5"),
        ("sources:\n  - name: a\n    url: https://a.example\n    headers: [x]\n",
         "sources.yaml:4: 'headers' must be a mapping of header names to text values"),
        ("sources:\n  - name: a\n    url: https://a.example\n    enabled: maybe\n",
         "sources.yaml:4: 'enabled' must be true or false: 'maybe'"),
        ("sources:\n  - name: a\n    url: https://a.example\n    options: {retries: -1}\n",
         "sources.yaml:4: rss source: option 'retries' must be a whole number >= 0, not -1"),
        ("sources:\n  - name: a\n    url: http:///feed\n",
         "sources.yaml:3: url 'http:///feed' has no host"),
        ("sources:\n  - name: a\n    url: 'http://[::1/feed'\n",
         "sources.yaml:3: url 'http://[::1/feed' is not a URL: Invalid IPv6 URL"),
        ("defaults: {poll_interval: 5s}\nsources:\n  - name: a\n    url: https://a.example\n",
         "sources.yaml:1: poll_interval '5s' is below the minimum of 60 s"),
        ("sources:\n  - name: a\n    url: https://a.example\n    max_poll_interval: 5m\n",
         "sources.yaml:4: max_poll_interval '5m' is below the source's poll_interval of 600 s"),
        ("sources:\n  - name: a\n    url: https://a.example\n    max_poll_interval: later\n",
         "sources.yaml:4: bad max_poll_interval 'later': use seconds or a duration like 10m"),
        ("sources:\n  - name: a\n    url: [https://a.example\n",
         "sources.yaml:4: invalid YAML: while parsing a flow sequence"),
        ("sources:\n  - name: a\n    name: b\n    url: https://a.example\n",
         "sources.yaml:3: duplicate key 'name'"),
    ],
)  # fmt: skip
def test_single_errors(text: str, expected: str) -> None:
    errors = errors_of(text)
    assert len(errors) == 1 and errors[0].startswith(expected), errors


def test_unreadable_file(tmp_path: Path) -> None:
    missing = tmp_path / "missing.yaml"
    with pytest.raises(ConfigValidationError) as caught:
        load_sources_file(missing)
    assert str(caught.value) == f"{missing}: no such sources file"
    with pytest.raises(ConfigValidationError) as caught:
        load_sources_file(tmp_path)
    assert str(caught.value) == f"{tmp_path}: is a folder, not a sources file"


def test_a_file_that_is_not_utf8_is_named_with_line_and_byte(tmp_path: Path) -> None:
    bad = tmp_path / "latin1.yaml"
    bad.write_bytes("sources:\n  - name: caf\xe9\n".encode("latin-1"))
    with pytest.raises(ConfigValidationError) as caught:
        load_sources_file(bad)
    (error,) = caught.value.errors
    assert (error.path, error.line) == (str(bad), 2)
    assert error.reason == "not UTF-8 (byte 0xe9 at offset 22): save it as UTF-8"


def test_a_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    with_bom = tmp_path / "bom.yaml"
    with_bom.write_bytes(b"\xef\xbb\xbfsources:\n  - name: a\n    url: https://a.example/feed\n")
    assert [s.name for s in load_sources_file(with_bom)] == ["a"]


def test_timezone_is_the_publishers_zone_with_a_default() -> None:
    specs = load_sources(
        "defaults:\n  timezone: Asia/Seoul\nsources:\n"
        "  - {name: Yonhap, url: 'https://en.yna.co.kr/rss.xml'}\n"
        "  - {name: NHK, url: 'https://www3.nhk.or.jp/rss.xml', timezone: Asia/Tokyo}\n",
        "sources.yaml",
    )
    zones = [(s.name, s.timezone) for s in specs]
    assert zones == [("Yonhap", "Asia/Seoul"), ("NHK", "Asia/Tokyo")]


@pytest.mark.parametrize(
    ("zone", "expected"),
    [
        ("asia/tokyo", "sources.yaml:4: unknown timezone 'asia/tokyo'"),
        ("Asia/Tokio", "(did you mean 'Asia/Tokyo'?)"),
        ("+09:00", "use an IANA name like Asia/Tokyo"),
        ("../../etc/passwd", "unknown timezone"),
    ],
)
def test_an_unknown_timezone_is_named_with_its_line(zone: str, expected: str) -> None:
    text = (
        f"sources:\n  - name: NHK\n    url: https://nhk.example/rss.xml\n    timezone: '{zone}'\n"
    )
    with pytest.raises(ConfigValidationError) as caught:
        load_sources(text, "sources.yaml")
    assert expected in str(caught.value)
