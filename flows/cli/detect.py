"""`watchfloor detect`: pure detection over a JSON Lines file (no database, no Prefect).

Real files are messy, so `detect` reads them leniently and streams: a line that is not a usable
record is reported on stderr with its number and skipped, a `published` value that is not a date
is one warning and the item is read as undated, and every other line gives one output line as
soon as it is analysed. The strict reader (`read_items`) stays for `rules test` and the corpus
evaluation, where a bad line is a mistake in a curated file.
"""

from __future__ import annotations

import codecs
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, BinaryIO, TypeGuard

import detect
from core.errors import ConfigError
from core.model import DetectionInput, Match
from flows.cli.common import InputError
from flows.stages.report import jsonable

# Dates outside these years come from broken feeds ("9999-12-31", "0001-01-01"); date arithmetic
# near datetime's limits would overflow, so such an item is read as undated.
PLAUSIBLE_YEARS = range(1900, 2101)
# "2026-01-27 15:50:00 (KST, corrected)": at most this many leading words form the date.
DATE_WORDS = 3
NOT_A_RECORD = "not a JSON object with a string (or number) 'id' and a string 'text'"
UTF16_32_BOMS = (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


class NotUtf8Error(InputError):
    """The input file is not UTF-8 text; carries the file, the line and how to fix it."""

    def __init__(self, path: Path, line: int, detail: str) -> None:
        self.path = path
        self.line = line
        super().__init__(
            f"{path}:{line}: not UTF-8 text ({detail}): convert the file to UTF-8, "
            f"e.g. `iconv -f ENCODING -t UTF-8 {path} > {path.stem}.utf8{path.suffix}`"
        )


def published_datetime(value: str) -> datetime:
    """A publication time from the forms real feeds carry, with its offset kept (naive = UTC).

    ISO 8601 (date, date and time, with or without zone), RFC 822/1123 ("Tue, 27 Jan 2026
    07:12:00 +0900", "... GMT"), and an ISO date and time followed by words ("2026-01-27
    15:50:00 (KST, corrected)"). Raises ValueError with the reason otherwise.
    """
    text = value.strip()
    parsed = _iso_or_rfc822(text)
    words = text.split()
    for count in range(min(DATE_WORDS, len(words) - 1), 0, -1):
        if parsed is not None:
            break
        parsed = _iso(" ".join(words[:count]))
    if parsed is None:
        raise ValueError(f"not a date: {value[:80]!r}")
    if parsed.year not in PLAUSIBLE_YEARS:
        raise ValueError(f"year {parsed.year} is out of range")
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _iso_or_rfc822(text: str) -> datetime | None:
    parsed = _iso(text)
    if parsed is not None:
        return parsed
    try:
        return parsedate_to_datetime(text)
    except (ValueError, TypeError, IndexError, OverflowError):
        return None


def _iso(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def parse_published(value: Any, path: str, line: int) -> datetime | None:
    """A publication date (see `published_datetime`); None when absent; ConfigError otherwise."""
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise ConfigError(path, "'published' must be a date string", line=line)
    try:
        return published_datetime(value)
    except ValueError as exc:
        raise ConfigError(path, f"'published' {exc}", line=line) from None


@dataclass(frozen=True, slots=True)
class CorpusArticle:
    """A line of a curated article file: what detection reads, and the article's language (None
    when the line gives none), which detection never reads but scores are split by."""

    item: DetectionInput
    lang: str | None


def read_items(path: Path) -> Iterator[CorpusArticle]:
    """One CorpusArticle per JSON Lines record; a bad line is an error with its line."""
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError:
                raise ConfigError(
                    str(path), "not UTF-8 text: convert the file to UTF-8", line=number
                ) from None
            if line.strip():
                yield _strict_item(line, str(path), number)


def _strict_item(line: str, path: str, number: int) -> CorpusArticle:
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ConfigError(path, f"invalid JSON: {exc.msg}", line=number) from None
    if not isinstance(record, dict) or "id" not in record or "text" not in record:
        raise ConfigError(path, "each line needs an object with 'id' and 'text'", line=number)
    published = parse_published(record.get("published"), path, number)
    item = DetectionInput(
        key=str(record["id"]),
        title=str(record.get("title") or ""),
        text=str(record["text"]),
        reference=published,
        dated=published is not None,
    )
    return CorpusArticle(item, _language(record.get("lang"), path, number))


def _language(value: Any, path: str, line: int) -> str | None:
    """The `lang` of a line as given (any string: en, ko, ja, zh or another); None when absent."""
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise ConfigError(path, "'lang' must be a string such as 'en'", line=line)
    return value


# --- the lenient, streaming reader of `watchfloor detect` --------------------------------------


@dataclass(frozen=True, slots=True)
class Record:
    """A usable line: the id as given, what detection reads, and warnings about the line."""

    number: int
    given_id: str | int | float
    item: DetectionInput
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Skipped:
    """A line that is not a usable record, and why."""

    number: int
    reason: str


def read_records(handle: BinaryIO, path: Path) -> Iterator[Record | Skipped]:
    """Each non-blank line of `handle` (the file `path`) as a Record or a Skipped, one line in
    memory at a time.

    Raises NotUtf8Error when the file is not UTF-8 (a UTF-16/32 mark, or a first line that does
    not decode); a later line that does not decode is skipped.
    """
    seen_text = False
    for number, raw in enumerate(handle, start=1):
        if number == 1 and raw.startswith(UTF16_32_BOMS):
            raise NotUtf8Error(path, 1, "it starts with a UTF-16/UTF-32 byte order mark")
        try:
            line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError as exc:
            detail = f"byte 0x{raw[exc.start]:02x} at column {exc.start + 1}"
            if not seen_text:
                raise NotUtf8Error(path, number, detail) from None
            yield Skipped(number, f"not UTF-8 text ({detail})")
            continue
        if not line.strip():
            continue
        seen_text = True
        yield record_of(line, number)


def record_of(line: str, number: int) -> Record | Skipped:
    """One JSON Lines record, validated; a bad `published` or `title` is a warning, not a skip."""
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        return Skipped(number, f"invalid JSON: {exc.msg} at column {exc.colno}")
    except (ValueError, RecursionError) as exc:  # 5,000-digit numbers, 100k nested brackets
        return Skipped(number, f"invalid JSON: {type(exc).__name__}: {str(exc)[:120]}")
    if not isinstance(record, dict):
        return Skipped(number, NOT_A_RECORD)
    given_id, text = record.get("id"), record.get("text")
    if not _usable_id(given_id) or not isinstance(text, str):
        return Skipped(number, NOT_A_RECORD)
    warnings: list[str] = []
    published = _lenient_published(record.get("published"), warnings)
    title = record.get("title")
    if title is not None and not isinstance(title, str):
        warnings.append(f"'title' is a {type(title).__name__}, not text: read without a title")
        title = None
    item = DetectionInput(
        key=str(given_id),
        title=title or "",
        text=text,
        reference=published,
        dated=published is not None,
    )
    return Record(number, given_id, item, tuple(warnings))


def _usable_id(value: Any) -> TypeGuard[str | int | float]:
    if isinstance(value, bool):  # JSON true/false are not ids, though bool is an int
        return False
    if isinstance(value, float):
        return math.isfinite(value)
    return isinstance(value, str | int)


def _lenient_published(value: Any, warnings: list[str]) -> datetime | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        warnings.append(
            f"'published' is a {type(value).__name__}, not a date string: read as undated"
        )
        return None
    try:
        return published_datetime(value)
    except ValueError as exc:
        warnings.append(f"'published' {exc}: read as undated")
        return None


def match_json(match: Match) -> dict[str, Any]:
    """One match as `detect --json` prints it."""
    return jsonable(
        {
            "category": match.category,
            "status": match.status,
            "background": match.background,
            "event_date": match.event_date,
            "actors": list(match.actors),
            "facts": dict(match.facts),
            "terms": list(match.terms),
            "regions": list(match.regions),
        }
    )


def detect_record(ruleset: Any, record: Record) -> dict[str, Any]:
    """The output of one record; a failure inside detection becomes an `error` field, so one
    pathological item never ends the file."""
    try:
        matches = [match_json(m) for m in detect.detect(ruleset, record.item)]
    except Exception as exc:  # any bug in detection must cost one item, not the run
        return {"id": record.given_id, "matches": [], "error": f"{type(exc).__name__}: {exc}"}
    return {"id": record.given_id, "matches": matches}
