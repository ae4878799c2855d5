"""The seedfiles adapter on the real seeds/ and on files made for the test."""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters import get_adapter, plan_replay, replay_clock
from adapters.options import parse_options
from adapters.sourcekinds.seedfiles import (
    SeedOptions,
    _dateline_day,
    _midnight_utc,
    _name_of,
    _normal_path,
    _order_key,
    _parent_of,
    _read,
    _read_up_to,
    _reference,
    _written_date,
)
from adapters.text.seedtext import date_header, parse_seed_text
from core.cursor import Cursor
from core.errors import SourceReadError
from core.model import Article, FetchResult, SourceSpec, SourceState
from tests.adapters.adapterkit import FIXTURES, SEEDS, state_after

JAN_28 = datetime(2026, 1, 28, tzinfo=UTC)


def read(location: str | Path, state: SourceState | None = None, **options: object) -> FetchResult:
    spec = SourceSpec("seeds", "seedfiles", str(location), options=options)
    return get_adapter("seedfiles").fetch(spec, state or SourceState())


def by_prefix(result: FetchResult) -> dict[str, Article]:
    return {str(a.raw["file"])[:3]: a for a in result.articles}


# --- the shipped seeds ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def seeds() -> FetchResult:
    return read(SEEDS)


def test_all_five_seeds_read_without_problems(seeds: FetchResult) -> None:
    assert seeds.status == "ok" and seeds.problems == () and seeds.error is None
    assert len(seeds.articles) == 5


def test_seed_001_headline_dateline_and_no_reader_comments(seeds: FetchResult) -> None:
    article = by_prefix(seeds)["001"]
    assert (
        article.title == "Japan, South Korea Defense Chiefs Meet Amid North Korea Missile Threats"
    )
    assert article.raw["title_inferred"] is False
    # "Tokyo, Jan 28": the year comes from the newest date in the other files (004's header).
    assert article.published == JAN_28
    assert article.raw["dateline"] == "Tokyo, Jan 28"
    assert article.raw["date_source"] == "dateline"
    assert article.raw["year_from"] == "newest date in the other files"
    for gone in (
        "Reader Comments",
        "Priyanka",
        "Leave a Comment",
        "Share this article",
        "2 min read",
    ):
        assert gone not in article.text
    assert not article.text.rstrip().endswith("IANS")
    assert "Key Points: Japan-S.Korea Defense Talks" in article.text  # article text, kept
    assert article.text.rstrip().endswith("would elevate bilateral ties.")
    assert "Tokyo, Jan 28" not in article.text


def test_seed_004_date_header_and_sign_offs(seeds: FetchResult) -> None:
    article = by_prefix(seeds)["004"]
    assert article.published == JAN_28
    assert article.raw["date_source"] == "header" and article.raw["header_date"] == "2026-01-28"
    assert article.raw["dateline"] == "Tokyo, Jan 28 (IANS)"
    assert article.text.startswith("Japanese Defence Minister Shinjiro Koizumi will hold talks")
    assert article.text.rstrip().endswith("would elevate bilateral ties.")
    for gone in ("date 2026", "--IANS", "akl/sd"):
        assert gone not in article.text
    assert article.raw["title_inferred"] is True
    assert article.title.startswith("Japanese Defence Minister Shinjiro Koizumi will hold talks")


@pytest.mark.parametrize("prefix", ["000", "002", "003"])
def test_seeds_without_a_date_stay_undated(seeds: FetchResult, prefix: str) -> None:
    article = by_prefix(seeds)[prefix]
    assert article.published is None
    assert article.raw["date_source"] is None and article.raw["date_only"] is False
    assert article.raw["title_inferred"] is True
    assert 0 < len(article.title) <= 120
    assert article.text.split("\n", 1)[0].startswith(article.title.rstrip("…"))


def test_seeds_replay_in_publication_order(seeds: FetchResult) -> None:
    assert [str(a.raw["file"])[:3] for a in seeds.articles] == ["001", "004", "000", "002", "003"]


def test_guids_are_file_name_and_content_hash(seeds: FetchResult) -> None:
    for article in seeds.articles:
        content = (SEEDS / str(article.raw["file"])).read_bytes()
        assert article.guid == f"{article.raw['file']}#{hashlib.sha256(content).hexdigest()[:16]}"
        assert article.source == "seeds" and article.url is None
        assert article.published is None or article.published.tzinfo is UTC
        assert article.raw["original_text"] == content.decode("utf-8")


def test_guids_are_stable_and_follow_content(tmp_path: Path) -> None:
    shutil.copy(SEEDS / "004_88eab4d0ccad7b11.txt", tmp_path / "a.txt")
    first = read(tmp_path).articles[0].guid
    assert read(tmp_path).articles[0].guid == first
    (tmp_path / "a.txt").write_text("Changed text of the article.\n", encoding="utf-8")
    assert read(tmp_path).articles[0].guid != first


def test_same_files_again_are_unchanged(seeds: FetchResult) -> None:
    again = read(SEEDS, state_after(seeds))
    assert again.status == "unchanged" and again.articles == ()
    assert again.cursor == seeds.cursor


@pytest.mark.parametrize("cursor", [{"body_hash": 5}, {"body_hash": ["x"]}, {"etag": '"v1"'}])
def test_a_cursor_of_another_shape_reads_every_file(
    seeds: FetchResult, cursor: dict[str, object]
) -> None:
    again = read(SEEDS, SourceState(Cursor(cursor)))
    assert again.status == "ok" and len(again.articles) == len(seeds.articles)
    assert again.cursor == seeds.cursor


# --- dates and references -----------------------------------------------------------------------


def test_reference_year_option(tmp_path: Path) -> None:
    shutil.copy(SEEDS / "001_6f956d4206d20137.txt", tmp_path)
    alone = read(tmp_path)
    assert alone.articles[0].published is None  # no other file, no option: year unknown
    with_year = read(tmp_path, reference_year=2025)
    assert with_year.articles[0].published == datetime(2025, 1, 28, tzinfo=UTC)
    assert with_year.articles[0].raw["year_from"] == "option reference_year"


def test_reference_date_picks_the_nearest_year(tmp_path: Path) -> None:
    (tmp_path / "dec.txt").write_text("SEOUL, Dec. 30 (Yonhap) -- Text.\n", encoding="utf-8")
    result = read(tmp_path, reference_date="2026-01-02")
    assert result.articles[0].published == datetime(2025, 12, 30, tzinfo=UTC)


def test_dateline_with_its_own_year_and_own_fixture_texts() -> None:
    result = read(FIXTURES / "articles", reference_year=2026)
    articles = {a.raw["file"]: a for a in result.articles}
    reuters = articles["reuters_style.txt"]
    assert reuters.published == datetime(2026, 3, 3, tzinfo=UTC)
    assert reuters.raw["dateline"] == "TOKYO, March 3, 2026 (Reuters)"
    assert reuters.raw["agency"] == "Reuters"
    assert reuters.text.startswith("Japan's defence ministry said on Tuesday")
    assert "Key Points:\n  • Drones flew near Yonaguni" in reuters.text
    for gone in ("4 min read", "Read more", "Share this story", "Reporting by"):
        assert gone not in reuters.text

    yonhap = articles["yonhap_style.txt"]
    assert yonhap.title == "N. Korea fires ballistic missile toward East Sea"
    assert yonhap.published == datetime(2026, 1, 4, tzinfo=UTC)
    assert yonhap.text.startswith("North Korea fired a ballistic missile")
    for gone in ("Advertisement", "(END)", "Related Articles", "Kim inspects"):
        assert gone not in yonhap.text

    kyodo = articles["kyodo_style.txt"]
    assert kyodo.published is None  # no dateline at all
    assert kyodo.text.endswith("patrol vessels and aircraft.")
    assert "Follow us" not in kyodo.text and "newsletter" not in kyodo.text

    bom = articles["bom_file.txt"]
    assert bom.title == "Headline in a BOM file"  # the byte-order mark is not part of it
    assert bom.published == datetime(2026, 2, 2, tzinfo=UTC)


def test_parse_seed_text_keeps_a_dateline_like_line_deep_in_the_text() -> None:
    filler = "\n".join(f"Line {i} of the article." for i in range(60))
    parts = parse_seed_text(f"{filler}\nSEOUL, Jan. 5 (Yonhap) -- late line.\n")
    assert parts.dateline is None and "SEOUL, Jan. 5" in parts.body


def test_invalid_header_date_is_text() -> None:
    parts = parse_seed_text("date 2026-13-45 is not a date\n")
    assert parts.header_date is None and parts.body.startswith("date 2026-13-45")


# --- files and problems -------------------------------------------------------------------------


def test_undecodable_file_is_reported_and_skipped(tmp_path: Path) -> None:
    shutil.copy(SEEDS / "004_88eab4d0ccad7b11.txt", tmp_path)
    (tmp_path / "005_latin1.txt").write_bytes("Séoul, café text".encode("latin-1"))
    (tmp_path / "006_empty.txt").write_text("  \n", encoding="utf-8")
    (tmp_path / "notes.md").write_text("not an article", encoding="utf-8")
    result = read(tmp_path)
    assert result.status == "ok"
    assert [a.raw["file"] for a in result.articles] == ["004_88eab4d0ccad7b11.txt"]
    assert len(result.problems) == 2
    assert "005_latin1.txt: not valid UTF-8 (byte 0xe9 at offset 1)" in result.problems[0]
    assert "006_empty.txt: empty file" in result.problems[1]


def test_only_bad_files_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "bad.txt").write_bytes(b"\xff\xfe\xfa broken")
    result = read(tmp_path)
    assert result.status == "error" and not result.transient
    assert result.error is not None and "bad.txt: not valid UTF-8" in result.error


def test_missing_location_and_empty_folder_are_errors(tmp_path: Path) -> None:
    missing = read(tmp_path / "nowhere")
    assert missing.status == "error" and "no such file or folder" in (missing.error or "")
    empty = read(tmp_path)
    assert empty.status == "error" and "no .txt files" in (empty.error or "")


def test_single_file_and_paths_option(tmp_path: Path) -> None:
    one = read(SEEDS / "002_40bc363442ae43be.txt")
    assert [a.raw["file"] for a in one.articles] == ["002_40bc363442ae43be.txt"]
    several = read(
        SEEDS / "002_40bc363442ae43be.txt",
        paths=[str(SEEDS / "004_88eab4d0ccad7b11.txt"), str(tmp_path / "gone.txt")],
    )
    assert [a.raw["file"] for a in several.articles] == [
        "004_88eab4d0ccad7b11.txt",
        "002_40bc363442ae43be.txt",
    ]
    assert several.problems == (f"{tmp_path / 'gone.txt'}: no such file or folder",)


def test_bad_options_are_an_error_not_an_exception() -> None:
    result = read(SEEDS, reference_year="twenty", colour="blue")
    assert result.status == "error"
    assert "reference_year" in (result.error or "") and "colour" in (result.error or "")


# --- replay clock -------------------------------------------------------------------------------


def test_replay_clock_gives_undated_articles_the_latest_time_so_far(seeds: FetchResult) -> None:
    clock = replay_clock(seeds.articles)
    assert [(now, dated) for _, now, dated in clock] == [
        (JAN_28, True),
        (JAN_28, True),
        (JAN_28, False),
        (JAN_28, False),
        (JAN_28, False),
    ]
    assert replay_clock([]) == []


# --- size cap ----------------------------------------------------------------------------------


def test_a_file_over_the_cap_is_read_only_up_to_the_cap(tmp_path: Path) -> None:
    # 200 MB on disk but sparse (no disk space used): reading it whole would take seconds and
    # hundreds of megabytes; the cap reads 2 MiB (pytest-timeout catches a whole read hanging).
    big = tmp_path / "big.txt"
    with big.open("wb") as handle:
        handle.write(b"Huge bulletin\n\nTokyo, Jan 28 (Kyodo) -- " + b"word " * 600_000)
        handle.truncate(200_000_000)
    (tmp_path / "small.txt").write_text("Small one\n\nSeoul, Jan 27 (Yonhap) -- Short.\n")
    result = read(tmp_path)
    assert result.status == "ok" and len(result.articles) == 2
    cap = 2 * 1024 * 1024
    assert result.problems == (
        f"big.txt: 200000000 bytes, over the {cap}-byte cap (option max_file_bytes): "
        f"only the first {cap} bytes were read",
    )
    big_article = next(a for a in result.articles if a.raw["file"] == "big.txt")
    assert big_article.raw["truncated_from_bytes"] == 200_000_000
    assert big_article.title == "Huge bulletin" and "word word" in big_article.text
    assert len(big_article.raw["original_text"]) == cap


def test_the_cap_never_splits_a_character(tmp_path: Path) -> None:
    # "Title\n\n" is 7 bytes and each Hangul syllable 3: a 12-byte cap ends inside "사".
    (tmp_path / "ko.txt").write_text("Title\n\n미사일 발사 " * 3, encoding="utf-8")
    result = read(tmp_path, max_file_bytes=12)
    assert result.status == "ok", result.error
    (article,) = result.articles
    assert article.raw["original_text"] == "Title\n\n미"
    assert "only the first 10 bytes were read" in result.problems[0]


def test_a_file_under_the_cap_is_read_whole(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("Title\n\nBody text.\n")
    result = read(tmp_path, max_file_bytes=25)
    assert result.status == "ok" and result.problems == ()
    assert result.articles[0].raw["truncated_from_bytes"] is None


# --- a replay read in chunks ---------------------------------------------------------------------


def chunked_replay(folder: Path, files_per_chunk: int, **options: object) -> list[Article]:
    """The articles of every chunk of `plan_replay`, fetched one after another."""
    spec = SourceSpec("seeds", "seedfiles", str(folder), options=options)
    plan = plan_replay(spec, files_per_chunk)
    assert all(chunk.name == "seeds" for chunk in plan.chunks)
    fetched = [get_adapter("seedfiles").fetch(chunk, SourceState()) for chunk in plan.chunks]
    return [article for result in fetched for article in result.articles]


def clock(articles: list[Article], files_per_chunk: int) -> list[tuple[datetime | None, bool]]:
    """The replay clock read chunk by chunk, each chunk starting where the last one left it."""
    now: datetime | None = None
    paired = []
    for start in range(0, len(articles), files_per_chunk):
        part = replay_clock(articles[start : start + files_per_chunk], now)
        paired += [(at, dated) for _, at, dated in part]
        now = max((at for _, at, _ in part if at is not None), default=now)
    return paired


MIXED_FILES = {
    # a header date, a dateline with a year, datelines without one, nothing, and a bad file
    "a.txt": "date: 2026-01-20\nLaunch\n\nNorth Korea fired a missile.\n",
    "b.txt": "Talks\n\nSEOUL, Jan 30, 2026 (Yonhap) -- The ministers met.\n",
    "c.txt": "Drill\n\nTokyo, Dec 30 -- The drill began.\n",
    "d.txt": "Undated\n\nNothing says when this was written.\n",
    "e.txt": "Summit\n\nBeijing, Feb 2 -- The leaders met.\n",
    "f.txt": "date: 2026-01-25\nSanctions\n\nNew sanctions were adopted.\n",
}


def write_files(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


@pytest.mark.parametrize("files_per_chunk", [1, 2, 4, 6])
def test_a_replay_read_in_chunks_reads_as_one_fetch(tmp_path: Path, files_per_chunk: int) -> None:
    folder = write_files(tmp_path / "mixed", MIXED_FILES)
    (folder / "g.txt").write_bytes(b"\xff\xfe not text")
    whole = read(folder).articles
    chunked = chunked_replay(folder, files_per_chunk)
    assert [(a.guid, a.published, a.raw) for a in chunked] == [
        (a.guid, a.published, a.raw) for a in whole
    ]
    # "Tokyo, Dec 30" takes the year that puts it nearest the newest date (Feb 2026)
    assert by_prefix(read(folder))["c.t"].published == datetime(2025, 12, 30, tzinfo=UTC)
    assert clock(chunked, files_per_chunk) == [(at, d) for _, at, d in replay_clock(whole)]


def test_a_small_replay_stays_one_spec_and_reports_its_own_problems(tmp_path: Path) -> None:
    folder = write_files(tmp_path / "small", MIXED_FILES)
    spec = SourceSpec("seeds", "seedfiles", str(folder), options={"paths": [str(tmp_path / "x")]})
    assert plan_replay(spec, 10).chunks == (spec,)
    big = plan_replay(spec, 2)
    assert len(big.chunks) == 3 and big.problems == (f"{tmp_path / 'x'}: no such file or folder",)


def test_chunks_keep_the_users_reference_options(tmp_path: Path) -> None:
    folder = write_files(tmp_path / "ref", MIXED_FILES)
    whole = read(folder, reference_year=2020).articles
    chunked = chunked_replay(folder, 2, reference_year=2020)
    assert [(a.guid, a.published) for a in chunked] == [(a.guid, a.published) for a in whole]
    assert by_prefix(read(folder, reference_year=2020))["e.t"].published.year == 2020


LINES = st.sampled_from(
    [
        "date: 2026-0{m}-1{d}\n",
        "date: 2025-12-2{d}\n",
        "SEOUL, Jan 1{d} -- ",
        "Tokyo, Dec 2{d} (Kyodo) -- ",
        "BEIJING, Mar {d}, 2026 -- ",
        "",
    ]
)


@settings(max_examples=40, deadline=None)
@given(
    heads=st.lists(st.tuples(LINES, st.integers(1, 9)), min_size=1, max_size=12),
    files_per_chunk=st.integers(1, 5),
)
def test_any_folder_reads_the_same_in_chunks(
    tmp_path_factory: pytest.TempPathFactory,
    heads: list[tuple[str, int]],
    files_per_chunk: int,
) -> None:
    folder = tmp_path_factory.mktemp("any")
    for n, (head, d) in enumerate(heads):
        line = head.format(m=d % 9 + 1, d=d)
        body = (
            f"{line}Item {n} text." if not line.startswith("date:") else f"{line}Item {n}\n\nText."
        )
        (folder / f"{n % 4}{n:03d}.txt").write_text(f"Title {n}\n\n{body}\n", encoding="utf-8")
    whole = read(folder).articles
    chunked = chunked_replay(folder, files_per_chunk)
    assert [(a.guid, a.published) for a in chunked] == [(a.guid, a.published) for a in whole]
    assert clock(chunked, files_per_chunk) == [(at, d) for _, at, d in replay_clock(whole)]


# --- the compact plan reads as the plan of Paths it replaced ------------------------------------


def plan_of_paths(spec: SourceSpec, files_per_chunk: int) -> tuple[SourceSpec, ...]:
    """The plan as it was built before it was kept compact: every file a Path, in one sort by
    (unknown date, date, name), every chunk's spec made up front (the reference to match)."""
    options = parse_options(SeedOptions, spec.options)
    paths: list[Path] = []
    for location in [spec.location, *options.paths]:
        path = Path(location).expanduser()
        if path.is_dir():
            paths += sorted(
                p
                for p in path.iterdir()
                if p.suffix.lower() == ".txt" and not p.name.startswith(".") and p.is_file()
            )
        elif path.exists():
            paths.append(path)
    paths = list(dict.fromkeys(paths))
    if len(paths) <= files_per_chunk:
        return (spec,)
    written: list[date | None] = []
    datelines = {}
    for index, path in enumerate(paths):
        try:
            parts = _read(spec.name, str(path), options.max_file_bytes).parts
        except SourceReadError:
            written.append(None)
            continue
        written.append(_written_date(parts))
        if written[-1] is None and parts.dateline is not None:
            datelines[index] = parts.dateline
    newest = max((d for d in written if d is not None), default=None)
    reference = _reference(options, [newest] if newest else [])

    def order(index: int) -> tuple[bool, datetime, str]:
        day = written[index]
        if day is None and index in datelines:
            day = _dateline_day(datelines[index], reference)
        return _order_key(_midnight_utc(day) if day else None, paths[index].name)

    ordered = [str(paths[i]) for i in sorted(range(len(paths)), key=order)]
    chunk_options = dict(spec.options)
    if newest is not None and not (options.reference_date or options.reference_year):
        chunk_options["newest_date"] = newest.isoformat()
    return tuple(
        replace(spec, location=part[0], options={**chunk_options, "paths": part})
        for part in (
            ordered[i : i + files_per_chunk] for i in range(0, len(ordered), files_per_chunk)
        )
    )


HEADS = st.sampled_from(
    [
        "date: 2026-0{m}-1{d}\nTitle\n\nText.",
        "Title\n\nSEOUL, Jan 1{d} -- Text.",
        "Title\n\nTokyo, Dec 2{d} (Kyodo) -- Text.",
        "Title\n\nBEIJING, Mar {d}, 2026 -- Text.",
        "Title\n\nTokyo, Feb 30 -- no such day in any year.",
        "Title\n\nTokyo, Feb 29 -- a day of leap years only.",
        "Title\n\nTokyo, Feb 30, 2026 -- no such day in its year.",
        "Title\n\nNothing says when.",
        "",  # empty: unreadable
    ]
)
NAMES = st.sampled_from(["a.txt", "B.TXT", "c.txt", "d.Txt", "e.txt", ".h.txt", "x.md", "f.txt"])


@settings(max_examples=60, deadline=None)
@given(
    one=st.dictionaries(NAMES, st.tuples(HEADS, st.integers(1, 9)), max_size=8),
    two=st.dictionaries(NAMES, st.tuples(HEADS, st.integers(1, 9)), max_size=8),
    extra=st.lists(
        st.sampled_from(["one", "two/", "one/a.txt", "two/c.txt", "./one/e.txt", "none"]),
        max_size=4,
    ),
    files_per_chunk=st.integers(1, 6),
    reference_year=st.sampled_from([None, 2020]),
)
def test_the_compact_plan_names_the_same_files_in_the_same_chunks(
    tmp_path_factory: pytest.TempPathFactory,
    one: dict[str, tuple[str, int]],
    two: dict[str, tuple[str, int]],
    extra: list[str],
    files_per_chunk: int,
    reference_year: int | None,
) -> None:
    root = tmp_path_factory.mktemp("plan")
    for folder, files in (("one", one), ("two", two)):
        (root / folder).mkdir()
        for name, (head, d) in files.items():
            (root / folder / name).write_text(head.format(m=d % 9 + 1, d=d), encoding="utf-8")
    options: dict[str, object] = {"paths": [str(root / e) for e in extra]}
    if reference_year:
        options["reference_year"] = reference_year
    spec = SourceSpec("seeds", "seedfiles", str(root / "one"), options=options)
    plan = plan_replay(spec, files_per_chunk)
    assert list(plan.chunks) == list(plan_of_paths(spec, files_per_chunk))
    assert list(plan.chunks[1:]) == list(plan.chunks)[1:]


HEADER_LINES = st.sampled_from(
    ["date 2026-02-03", "date: 2026-02-03", "Date 2026-13-45", "date 2026-2-3", "", "  ", "x"]
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(HEADER_LINES | st.text(alphabet="date: 0123456789-\r\nSEOUL,Jan. (AP)"), max_size=6),
    st.sampled_from(["\n", "\r\n", "\r"]),
)
def test_the_date_header_alone_is_the_header_date_of_the_whole_parse(
    lines: list[str], newline: str
) -> None:
    # The replay's ordering pass reads only the header of a file that has one.
    text = newline.join(lines)
    assert date_header(text) == parse_seed_text(text).header_date


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=64), st.integers(min_value=1, max_value=80))
def test_reading_up_to_a_limit_reads_what_one_read_of_the_limit_reads(
    tmp_path_factory: pytest.TempPathFactory, content: bytes, limit: int
) -> None:
    path = tmp_path_factory.mktemp("sized") / "a.txt"
    path.write_bytes(content)
    with path.open("rb") as sized, path.open("rb") as plain:
        assert _read_up_to(sized, limit) == plain.read(limit) == content[:limit]


PROC_FILE = Path("/proc/self/cmdline")


@pytest.mark.skipif(not PROC_FILE.exists(), reason="needs Linux /proc")
def test_reading_up_to_a_limit_reads_on_past_a_size_that_says_too_little() -> None:
    """/proc files say they hold 0 bytes: the read goes on to the limit all the same."""
    with PROC_FILE.open("rb") as sized, PROC_FILE.open("rb") as plain:
        expected = plain.read(1 << 20)
        assert len(expected) > 1
        assert _read_up_to(sized, 1 << 20) == expected


@settings(max_examples=500)
@given(st.text(alphabet="/.a~", max_size=12))
def test_paths_are_written_as_pathlib_writes_them(text: str) -> None:
    # Paths of seed files are strings, not Paths (a Path interns its parts); they must read
    # exactly as pathlib's, whose text a replay's articles and guids carry.
    try:
        expected = Path(text).expanduser()
    except RuntimeError:  # a "~user" pathlib cannot place: os.path leaves it as it is
        return
    path = _normal_path(text)
    assert path == str(expected)
    assert _name_of(path) == expected.name
    assert _parent_of(path) == str(expected.parent)
