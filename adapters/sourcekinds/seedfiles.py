"""Seed files: replay local plain-text articles (a folder of `.txt` files, or files) offline.

Each file is one article (see `adapters.text.seedtext` for how it is taken apart). A dateline
without a year ("Tokyo, Jan 28") takes its year from a reference date: `options["reference_date"]`,
else `options["reference_year"]`, else the newest date written in the *other* files. Articles
come back in publication order, unknown dates last, then by file name. A file that cannot be
read or decoded is named in `FetchResult.problems` and skipped; the others go on. A file larger
than `options["max_file_bytes"]` (2 MiB by default; an article is rarely over 100 KB) is read
only up to the cap, and the truncation is named in `FetchResult.problems`: a 60 MB file once
took minutes and gigabytes, and no file is ever read into memory whole.

A replay of many files is read in chunks (`plan_replay`), so its memory does not grow with its
size: a first pass reads only what orders the files (their dates), then each chunk is a source
spec of its own, fetched and stored before the next is read. The chunks read exactly as one
fetch of every file would: the same order, and the same year for a dateline without one.
"""

from __future__ import annotations

import hashlib
import os
from array import array
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, BinaryIO, ClassVar, overload

from adapters.options import internal, parse_options, positive
from adapters.readahead import read_ahead
from adapters.registry import BaseAdapter, register
from adapters.text.seedtext import Dateline, SeedText, date_header, dateline_date, parse_seed_text
from core.cursor import Cursor
from core.errors import SourceReadError
from core.model import Article, FetchResult, SourceSpec, SourceState


@dataclass(frozen=True, slots=True)
class SeedOptions:
    """`SourceSpec.options` of a seedfiles source."""

    paths: tuple[str, ...] = internal(())  # the sources file's `path` list after the first
    reference_date: str | None = None  # ISO date, e.g. "2026-01-28"
    reference_year: int | None = None
    keep_original: bool = True  # keep the file's whole text in raw["original_text"]
    max_file_bytes: int = positive(2 * 1024 * 1024)  # read no more of one file than this
    # Set by `plan_replay` on each chunk: the newest date written in the whole replay, so a
    # dateline without a year resolves as if every file were read at once.
    newest_date: str | None = internal(None)


@dataclass(frozen=True, slots=True)
class _SeedFile:
    path: str  # as `_normal_path` writes it
    content: bytes
    parts: SeedText
    content_id: str  # `_content_id(content)`: in the files' hash and the article's guid
    truncated_from: int | None = None  # the file's size when only its first bytes were read


@register("seedfiles")
class SeedFilesAdapter(BaseAdapter):
    """Local `.txt` article files: a file, a folder or a list of them, read as articles.

    Reads `spec.location` and `options["paths"]` (the sources file's further paths). Local
    files need no HTTP client: the fetch context the base keeps goes unused."""

    kind: ClassVar[str] = "seedfiles"
    location_key: ClassVar[str] = "path"
    options_type: ClassVar[type[SeedOptions]] = SeedOptions

    @classmethod
    def check_options(cls, options: Mapping[str, Any]) -> list[str]:
        """Problems with a seedfiles source's options (unknown keys, wrong types, bad date)."""
        problems = super().check_options(options)
        for key in ("reference_date", "newest_date"):
            if isinstance(options.get(key), str):
                try:
                    date.fromisoformat(options[key])
                except ValueError:
                    problems.append(f"option {key!r} must be a date like 2026-01-28")
        return problems

    def fetch(self, spec: SourceSpec, state: SourceState) -> FetchResult:
        """Read every seed file of `spec`; "unchanged" when the same files with the same content
        were read last time. The cursor holds the hash of the files read (`{"body_hash": ...}`);
        a cursor without one as text (another kind's, a corrupt one) means read them all."""
        problems = self.check_options(spec.options)
        if problems:
            return _error(spec, "bad options: " + "; ".join(problems))
        options = parse_options(SeedOptions, spec.options)
        paths, problems = _collect_paths([spec.location, *options.paths])
        if not paths:
            return _error(spec, "; ".join(problems) or "no .txt files found")
        files = []
        for path in read_ahead(paths, options.max_file_bytes + 1):
            try:
                seed = _read(spec.name, path, options.max_file_bytes)
            except SourceReadError as exc:
                problems.append(exc.reason)
                continue
            files.append(seed)
            if seed.truncated_from is not None:
                problems.append(_truncation_problem(seed, options.max_file_bytes))
        if not files:
            return _error(spec, "no readable files: " + "; ".join(problems), problems)
        body_hash = _files_hash(files)
        cursor = Cursor({"body_hash": body_hash})
        if body_hash == state.cursor.get("body_hash"):
            return FetchResult(spec.name, "unchanged", cursor=cursor, problems=tuple(problems))
        articles = _articles(spec.name, files, options)
        return FetchResult(
            spec.name, "ok", articles=articles, cursor=cursor, problems=tuple(problems)
        )


class ReplayChunks(Sequence[SourceSpec]):
    """The chunks of a large replay, each made when asked for.

    The files are kept as folder numbers and names, one string of "\\0"-joined names per chunk
    (a name cannot hold "\\0"), not as Path objects or full path strings: a 100,000-file replay
    then keeps ~1 MB for its plan, where Paths took ~36 MB and chunk specs ~9 MB for the whole
    run. A chunk's spec names the same paths, in the same order, as a spec built up front.
    """

    def __init__(
        self,
        spec: SourceSpec,
        options: dict[str, Any],
        folders: Sequence[str],
        parts: Sequence[tuple[str, array[int]]],
    ) -> None:
        self._spec = spec
        self._options = options
        self._folders = tuple(folders)
        self._parts = tuple(parts)  # per chunk: its joined names and their folder numbers

    def __len__(self) -> int:
        return len(self._parts)

    @overload
    def __getitem__(self, index: int) -> SourceSpec: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[SourceSpec]: ...

    def __getitem__(self, index: int | slice) -> SourceSpec | Sequence[SourceSpec]:
        if isinstance(index, slice):
            return [self[i] for i in range(len(self))[index]]
        names, folder_ids = self._parts[index]
        paths = [
            _path_in(self._folders[f], name)
            for f, name in zip(folder_ids, names.split("\0"), strict=True)
        ]
        return replace(self._spec, location=paths[0], options={**self._options, "paths": paths})


@dataclass(frozen=True, slots=True)
class ReplayPlan:
    """A replay cut into chunks: specs of the same source, each naming some of its files, in
    replay order; and problems with the locations given (a missing folder, an empty one)."""

    chunks: Sequence[SourceSpec]
    problems: tuple[str, ...] = ()
    files: int | None = None  # how many files the chunks name (None: options not readable)


def plan_replay(spec: SourceSpec, files_per_chunk: int) -> ReplayPlan:
    """`spec` as chunks of at most `files_per_chunk` files, to fetch one after another.

    Reads every file once for its dates (the next files hinted to the kernel first:
    `adapters.readahead`), and keeps only its name and place in the order. A spec with bad
    options or no more files than one chunk stays whole: its fetch reports what is wrong with
    it, as any fetch does.
    """
    if SeedFilesAdapter.check_options(spec.options):
        return ReplayPlan((spec,))
    options = parse_options(SeedOptions, spec.options)
    files, problems = _list_files([spec.location, *options.paths])
    if len(files) <= files_per_chunk:
        return ReplayPlan((spec,), files=len(files))
    order, newest = _replay_order_of(spec.name, files, options)
    chunk_options = dict(spec.options)
    if newest is not None and not (options.reference_date or options.reference_year):
        chunk_options["newest_date"] = newest.isoformat()
    parts = [
        (
            "\0".join(files.names[i] for i in order[start : start + files_per_chunk]),
            array("I", (files.folder_ids[i] for i in order[start : start + files_per_chunk])),
        )
        for start in range(0, len(order), files_per_chunk)
    ]
    chunks = ReplayChunks(spec, chunk_options, files.folders, parts)
    return ReplayPlan(chunks, tuple(problems), files=len(files))


@dataclass(slots=True)
class _FileList:
    """Files to read as (folder number, name): compact where a list of Paths is ~360 bytes a
    file. `path(i)` is the path that `_collect_paths` gives for the same file."""

    folders: list[str] = field(default_factory=list)
    folder_ids: array[int] = field(default_factory=lambda: array("I"))
    names: list[str] = field(default_factory=list)
    # Per folder number, the names listed in it: made when a folder is named a second time (a
    # replay chunk names each of its files), so a folder listed once costs no set of its names.
    _taken: dict[int, set[str]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.names)

    def path(self, index: int) -> str:
        return _path_in(self.folders[self.folder_ids[index]], self.names[index])

    def add(self, folder: str, names: Iterable[str]) -> None:
        """Append `names` of `folder`, skipping any already listed (two locations naming the
        same file read it once, where it was first named)."""
        if folder in self.folders:
            number = self.folders.index(folder)
            taken = self._taken.get(number)
            if taken is None:
                taken = self._taken[number] = {n for f, n in self._entries() if f == number}
            names = _not_taken(names, taken)
        else:
            number = len(self.folders)
            self.folders.append(folder)
        for name in names:
            self.folder_ids.append(number)
            self.names.append(name)

    def _entries(self) -> Iterator[tuple[int, str]]:
        return zip(self.folder_ids, self.names, strict=True)


def _not_taken(names: Iterable[str], taken: set[str]) -> list[str]:
    """`names` without those in `taken` or repeated, in order."""
    fresh = []
    for name in names:
        if name not in taken:
            taken.add(name)
            fresh.append(name)
    return fresh


def _path_in(folder: str, name: str) -> str:
    """`str(Path(folder) / name)` for a folder `_normal_path` wrote and a name listed in it,
    without a Path (see `_normal_path`)."""
    return name if folder == "." else os.path.join(folder, name)  # noqa: PTH118 (why: above)


def _normal_path(location: str) -> str:
    """`str(Path(location).expanduser())`, without making a Path when the text is already in
    that form, as every path a replay chunk names is.

    Why: a Path interns each part of its path. Each name dies with its Path, but the churn
    resized Python's table of interned strings (one 7.7 MB block in a 30,000-file replay, none
    in a 10,000-file one), and the table never shrinks: a Path per file made a replay's peak
    memory grow with its size. `tests/adapters/test_seedfiles.py` compares the two forms on
    any path text.
    """
    if _in_normal_form(location) and not location.startswith("~"):
        return location
    path = Path(location)
    try:
        return str(path.expanduser())
    except RuntimeError:  # "~user" of no known user: a path that names no file
        return str(path)


def _in_normal_form(text: str) -> bool:
    """Whether `str(Path(text)) == text`: no empty or "." part but a lone ".", no trailing
    slash but the root's, and not two slashes at the start (POSIX keeps those)."""
    if text in ("/", "."):
        return True
    parts = text.split("/")
    inner = parts[1:] if text.startswith("/") else parts
    return all(part not in ("", ".") for part in inner)


def _name_of(path: str) -> str:
    """`Path(path).name` of a path `_normal_path` wrote (the current folder's is empty)."""
    return "" if path == "." else path.rpartition("/")[2]


def _parent_of(path: str) -> str:
    """`str(Path(path).parent)` of a path `_normal_path` wrote."""
    head, _, name = path.rpartition("/")
    if not name:  # a root: its own parent
        return path
    if not head.strip("/"):  # in a root ("/", or the "//" POSIX keeps) or the current folder
        return path[: len(path) - len(name)] or "."
    return head


def _list_files(locations: Iterable[str]) -> tuple[_FileList, list[str]]:
    """The files `_collect_paths` finds, in its order, as a compact `_FileList`."""
    files = _FileList()
    problems: list[str] = []
    for location in locations:
        if not location:
            continue
        path = _normal_path(location)
        if os.path.isdir(path):  # noqa: PTH112 (why: _normal_path)
            found = sorted(_seed_names(path))
            if not found:
                problems.append(f"{location}: no .txt files in this folder")
            files.add(path, found)
        elif os.path.exists(path):  # noqa: PTH110 (why: _normal_path)
            files.add(_parent_of(path), [_name_of(path)])
        else:
            problems.append(f"{location}: no such file or folder")
    return files, problems


def _seed_names(folder: str) -> Iterator[str]:
    """Names of the seed files in `folder`: `.txt` (any case), not hidden, files (or links to
    files)."""
    with os.scandir(folder) as entries:
        for entry in entries:
            if _is_seed_name(entry.name) and entry.is_file():
                yield entry.name


def _is_seed_name(name: str) -> bool:
    """A `.txt` name (any case), not hidden: what `Path(name).suffix.lower() == ".txt"` says
    for a name not starting with ".", without a Path. Making a Path of a name interns it, and
    Python's table of interned strings grew by ~3.7 MB for 100,000 names and never shrank."""
    return name.lower().endswith(".txt") and not name.startswith(".")


def _replay_order_of(
    source: str, files: _FileList, options: SeedOptions
) -> tuple[list[int], date | None]:
    """The files' indexes in the order one fetch of them all returns their articles (unreadable
    ones last, where their chunk's fetch reports them), and the newest date written in them.

    Dates are kept as day ordinals in arrays (0: none) and the order is two stable sorts (by
    name, then by day): one tuple key per file cost ~9 MB at 100,000 files.
    """
    written = array("l")  # day ordinal of a date written in full, else 0
    yearless = array("H")  # _yearless_code of a dateline without a year, else 0
    paths = map(files.path, range(len(files)))
    for path in read_ahead(paths, options.max_file_bytes + 1):
        try:
            text = _read_text(source, path, options.max_file_bytes)[1]
        except SourceReadError:
            written.append(0)
            yearless.append(0)
            continue
        # A date header is the file's date whatever the rest says: only a file without one is
        # taken apart here (title, boilerplate, dateline), which costs ~9x more.
        header = date_header(text)
        if header is not None:
            written.append(header.toordinal())
            yearless.append(0)
            continue
        parts = parse_seed_text(text)
        day = _written_date(parts)
        written.append(day.toordinal() if day else 0)
        yearless.append(_yearless_code(parts.dateline) if day is None else 0)
    newest = date.fromordinal(max(written)) if any(written) else None
    reference = _reference(options, [newest] if newest else [])

    def day_of(index: int) -> int:
        if written[index]:
            return written[index]
        if yearless[index]:
            month, day = divmod(yearless[index], 32)
            found = _dateline_day(Dateline("", "", month, day, None, None), reference)
            if found:
                return found.toordinal()
        return _UNKNOWN_DAY

    order = sorted(range(len(files)), key=files.names.__getitem__)
    order.sort(key=day_of)  # stable: by day, then by name, unknown days last
    return order, newest


# After every day: files whose day is unknown go last.
_UNKNOWN_DAY = date.max.toordinal() + 1


def _yearless_code(dateline: Dateline | None) -> int:
    """month * 32 + day of a dateline that gives no year (0: none, or no day of any year: such a
    dateline never resolves, so its day is unknown either way)."""
    if dateline is None or dateline.year or not (1 <= dateline.month <= 12):
        return 0
    return dateline.month * 32 + dateline.day if 1 <= dateline.day <= 31 else 0


def replay_clock(
    articles: Sequence[Article], start: datetime | None = None
) -> list[tuple[Article, datetime | None, bool]]:
    """Pair each article (in replay order) with its "now": its own publication time when known
    (dated=True), else the latest publication time replayed before it (dated=False), so relative
    dates resolve against the replay, not the wall clock. `start` is the clock where an earlier
    chunk of the same replay left it."""
    now = start
    paired: list[tuple[Article, datetime | None, bool]] = []
    for article in articles:
        if article.published is not None:
            now = article.published if now is None else max(now, article.published)
            paired.append((article, article.published, True))
        else:
            paired.append((article, now, False))
    return paired


def _error(spec: SourceSpec, reason: str, problems: Iterable[str] = ()) -> FetchResult:
    # A missing folder or unreadable files stay so until someone acts: permanent.
    return FetchResult(spec.name, "error", error=reason, transient=False, problems=tuple(problems))


def _collect_paths(locations: Iterable[str]) -> tuple[list[str], list[str]]:
    """The files to read (folders give their `.txt` files, sorted; a file named twice is read
    once) and problems with locations."""
    files, problems = _list_files(locations)
    return [files.path(i) for i in range(len(files))], problems


def _read(source: str, path: str, cap: int) -> _SeedFile:
    """Read (at most `cap` bytes of) and decode one file; SourceReadError names the file and
    the reason."""
    content, text, size = _read_text(source, path, cap)
    return _SeedFile(path, content, parse_seed_text(text), _content_id(content), size)


def _read_text(source: str, path: str, cap: int) -> tuple[bytes, str, int | None]:
    """(bytes read, their text, the file's size when only its first `cap` bytes were read) of
    one file; SourceReadError names the file and the reason."""
    try:
        with open(path, "rb") as handle:  # noqa: PTH123 (why: _normal_path)
            content = _read_up_to(handle, cap + 1)  # one byte more tells whether there is more
            size = os.fstat(handle.fileno()).st_size if len(content) > cap else None
    except OSError as exc:
        raise SourceReadError(
            source, f"{_name_of(path)}: cannot read: {exc.strerror or exc}"
        ) from exc
    if size is not None:
        content = _whole_characters(content[:cap])
    text = _decode(source, _name_of(path), content)
    if not text.strip():
        raise SourceReadError(source, f"{_name_of(path)}: empty file")
    return content, text, size


def _read_up_to(handle: BinaryIO, limit: int) -> bytes:
    """`handle.read(limit)`, without its cost: reading asks for a buffer of `limit` bytes
    (2 MiB by default, for 3 KB articles), which took half the time of reading a file. The file's
    size is asked first; a file that grew since is read on up to `limit` all the same."""
    expected = min(limit, os.fstat(handle.fileno()).st_size + 1)
    content = handle.read(expected)
    if len(content) == expected < limit:  # as much as it had: it may hold more now
        content += handle.read(limit - expected)
    return content


def _whole_characters(content: bytes) -> bytes:
    """`content` cut at the cap, without the partial UTF-8 character the cut may leave (a
    character is at most 4 bytes), so a truncated file still decodes."""
    for cut in range(min(4, len(content)) + 1):
        head = content[: len(content) - cut]
        try:
            head.decode("utf-8")
        except UnicodeDecodeError as exc:
            if exc.start < len(head) - 3:
                return content  # bad bytes earlier on: _decode reports them
            continue
        return head
    return content


def _truncation_problem(seed: _SeedFile, cap: int) -> str:
    return (
        f"{_name_of(seed.path)}: {seed.truncated_from} bytes, over the {cap}-byte cap "
        f"(option max_file_bytes): only the first {len(seed.content)} bytes were read"
    )


def _decode(source: str, name: str, content: bytes) -> str:
    # utf-8-sig is utf-8 that also drops a leading byte-order mark.
    errors = []
    for encoding in ("utf-8", "utf-8-sig"):
        try:
            text = content.decode(encoding)
        except UnicodeDecodeError as exc:
            errors.append(exc)
            continue
        return text.removeprefix("\ufeff")
    first = errors[0]
    bad = content[first.start : first.start + 1].hex()
    raise SourceReadError(
        source, f"{name}: not valid UTF-8 (byte 0x{bad} at offset {first.start}); skipped"
    )


def _files_hash(files: Sequence[_SeedFile]) -> str:
    digest = hashlib.sha256()
    for seed in files:
        digest.update(f"{_name_of(seed.path)}\0{seed.content_id}\n".encode())
    return digest.hexdigest()


def _content_id(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()[:16]


def _articles(source: str, files: Sequence[_SeedFile], options: SeedOptions) -> tuple[Article, ...]:
    # Files are told apart by their place in `files` (each file is listed once), not by their
    # paths, whose hashing and comparing were a tenth of reading a chunk.
    known = [(i, d) for i, seed in enumerate(files) if (d := _written_date(seed.parts)) is not None]
    # The newest date among the *other* files is the newest overall, except for the file that
    # holds it; keeping the two newest makes this linear (a scan per file was quadratic).
    newest = sorted(known, key=lambda item: item[1], reverse=True)[:2]
    replay_newest = [date.fromisoformat(options.newest_date)] if options.newest_date else []
    articles = []
    for index, seed in enumerate(files):
        others = [d for i, d in newest if i != index][:1] + replay_newest
        reference = _reference(options, others)
        articles.append(_article(source, seed, reference, options))
    return tuple(sorted(articles, key=_replay_order))


def _written_date(parts: SeedText) -> date | None:
    """A date the file states in full: its header, or a dateline that has a year."""
    if parts.header_date:
        return parts.header_date
    if parts.dateline and parts.dateline.year:
        return dateline_date(parts.dateline, parts.dateline.year)
    return None


def _reference(options: SeedOptions, others: list[date]) -> tuple[date | None, int | None, str]:
    """(reference date, reference year, where it came from) for completing a dateline."""
    if options.reference_date:
        return date.fromisoformat(options.reference_date), None, "option reference_date"
    if options.reference_year:
        return None, options.reference_year, "option reference_year"
    if others:
        return max(others), None, "newest date in the other files"
    return None, None, "none"


def _article(
    source: str,
    seed: _SeedFile,
    reference: tuple[date | None, int | None, str],
    options: SeedOptions,
) -> Article:
    parts = seed.parts
    published, date_source = _published(parts, reference)
    raw: dict[str, Any] = {
        "file": _name_of(seed.path),
        "path": seed.path,
        "header_date": parts.header_date.isoformat() if parts.header_date else None,
        "dateline": parts.dateline.text if parts.dateline else None,
        "dateline_place": parts.dateline.place if parts.dateline else None,
        "agency": parts.dateline.agency if parts.dateline else None,
        "date_source": date_source,
        "date_only": published is not None,
        "title_inferred": parts.title_inferred,
        "boilerplate_removed": list(parts.removed),
        "truncated_from_bytes": seed.truncated_from,
    }
    if date_source == "dateline" and not (parts.dateline and parts.dateline.year):
        raw["year_from"] = reference[2]
    if options.keep_original:
        raw["original_text"] = seed.content.decode("utf-8-sig")
    return Article(
        source=source,
        guid=f"{_name_of(seed.path)}#{seed.content_id}",
        title=parts.title,
        text=parts.body,
        url=None,
        published=published,
        raw=raw,
    )


def _published(
    parts: SeedText, reference: tuple[date | None, int | None, str]
) -> tuple[datetime | None, str | None]:
    """Publication time (00:00 UTC of the day: seeds give dates only) and where it came from."""
    if parts.header_date:
        return _midnight_utc(parts.header_date), "header"
    if parts.dateline:
        day = _dateline_day(parts.dateline, reference)
        if day:
            return _midnight_utc(day), "dateline"
    return None, None


def _dateline_day(
    dateline: Dateline, reference: tuple[date | None, int | None, str]
) -> date | None:
    if dateline.year:
        return dateline_date(dateline, dateline.year)
    ref_date, ref_year, _ = reference
    if ref_year:
        return dateline_date(dateline, ref_year)
    if ref_date is None:
        return None
    # The year that puts the day nearest the reference: "Dec 30" read on Jan 2 is last year's.
    candidates = [
        d for y in (ref_date.year - 1, ref_date.year, ref_date.year + 1)
        if (d := dateline_date(dateline, y))
    ]  # fmt: skip
    return min(candidates, key=lambda d: abs((d - ref_date).days), default=None)


def _midnight_utc(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _replay_order(article: Article) -> tuple[bool, datetime, str]:
    return _order_key(article.published, str(article.raw.get("file", "")))


def _order_key(published: datetime | None, name: str) -> tuple[bool, datetime, str]:
    """Publication order, unknown dates last, then by file name."""
    return (published is None, published or datetime.max.replace(tzinfo=UTC), name)
