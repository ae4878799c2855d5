"""Take one plain-text article apart: date header, headline, dateline, body without boilerplate.

Pure text in, `SeedText` out; no files, no clock. The year of a dateline without one ("Tokyo,
Jan 28") is left open here: the seed-file adapter settles it against a reference date.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from adapters.text.boilerplate import strip_boilerplate
from adapters.text.titles import infer_title

# " date 2026-01-28 Tokyo, Jan 28 ..." : the header may share its line with the text after it.
_DATE_HEADER = re.compile(r"^\s*date\s*:?\s*(\d{4})-(\d{2})-(\d{2})(?:\s+|$)", re.IGNORECASE)
_MONTHS = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
    "jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12,
}  # fmt: skip
_MONTH = (
    r"(?i:(?P<month>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?))"
)
# "Tokyo, Jan 28", "SEOUL, Jan. 28 (Yonhap) --", "Taipei, Taiwan, March 3, 2026 (CNA) -":
# a capitalised place (optionally ", Country"), a month and day, an optional year and agency.
_DATELINE = re.compile(
    r"^\s*(?P<place>[A-Z][\w.'’\- ]{1,40}?)(?:,\s*[A-Z][\w.'’\- ]{1,30}?)?,\s+"
    + _MONTH
    + r"\.?\s+(?P<day>\d{1,2})(?:st|nd|rd|th)?\b(?:,?\s+(?P<year>\d{4})\b)?"
    r"(?:\s*\((?P<agency>[^()\n]{1,40})\))?(?:\s*(?:--|[-–—:]))?\s*"
)
# Only the top of an article carries its dateline; further down such a line is article text.
DATELINE_SCAN_LINES = 40
_TITLE_MAX_CHARS = 150
_TITLE_MAX_WORDS = 25
_TERMINAL = tuple(".!?:;,…。！？")
_BLANK_RUN = re.compile(r"\n\s*\n+")


@dataclass(frozen=True, slots=True)
class Dateline:
    """A dateline as written; `year` is None when the text gives none."""

    text: str
    place: str
    month: int
    day: int
    year: int | None
    agency: str | None


@dataclass(frozen=True, slots=True)
class SeedText:
    """One article taken apart. `title_inferred` says the title came from the first sentence."""

    title: str
    title_inferred: bool
    body: str
    header_date: date | None
    dateline: Dateline | None
    removed: tuple[str, ...]


def _lines(text: str) -> list[str]:
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def date_header(text: str) -> date | None:
    """The date of an article's `date YYYY-MM-DD` header, the `header_date` `parse_seed_text`
    gives, without taking the rest apart."""
    return _take_date_header(_lines(text))


def parse_seed_text(text: str) -> SeedText:
    """Split an article's text into header date, title, dateline and body (see module doc)."""
    lines = _lines(text)
    header_date = _take_date_header(lines)
    title = _take_headline(lines)
    stripped = strip_boilerplate("\n".join(lines))
    body_lines = stripped.text.split("\n")
    dateline = _take_dateline(body_lines)
    body = _BLANK_RUN.sub("\n\n", "\n".join(body_lines)).strip()
    return SeedText(
        title=title or infer_title(body),
        title_inferred=title is None,
        body=body,
        header_date=header_date,
        dateline=dateline,
        removed=stripped.removed,
    )


def dateline_date(dateline: Dateline, year: int) -> date | None:
    """The dateline's day in `year` (None when no such day exists, e.g. Feb 30)."""
    try:
        return date(year, dateline.month, dateline.day)
    except ValueError:
        return None


def _first_text_line(lines: list[str]) -> int | None:
    return next((i for i, line in enumerate(lines) if line.strip()), None)


def _take_date_header(lines: list[str]) -> date | None:
    """Remove a leading `date YYYY-MM-DD` header from `lines` (in place); return its date."""
    index = _first_text_line(lines)
    if index is None:
        return None
    match = _DATE_HEADER.match(lines[index])
    if not match:
        return None
    try:
        found = date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None  # "date 2026-13-45" is text, not a header
    lines[index] = lines[index][match.end() :]
    return found


def _take_headline(lines: list[str]) -> str | None:
    """Remove and return a headline: a short first line without terminal punctuation, followed
    by a blank line and more text, that is not itself a dateline."""
    index = _first_text_line(lines)
    if index is None or index + 1 >= len(lines) or lines[index + 1].strip():
        return None
    if not any(line.strip() for line in lines[index + 1 :]):
        return None  # a lone line is the article, not its headline
    candidate = " ".join(lines[index].split())
    if (
        len(candidate) > _TITLE_MAX_CHARS
        or len(candidate.split()) > _TITLE_MAX_WORDS
        or candidate.endswith(_TERMINAL)
        or _DATELINE.match(candidate)
    ):
        return None
    del lines[: index + 1]
    return candidate


def _take_dateline(lines: list[str]) -> Dateline | None:
    """Find the dateline among the first lines; remove it (in place) and return it."""
    seen = 0
    for index, line in enumerate(lines):
        if not line.strip():
            continue
        seen += 1
        if seen > DATELINE_SCAN_LINES:
            return None
        match = _DATELINE.match(line)
        if match:
            lines[index] = line[match.end() :]
            return _dateline_from(match)
    return None


def _dateline_from(match: re.Match[str]) -> Dateline:
    year = match["year"]
    agency = match["agency"]
    return Dateline(
        text=match.group().strip().rstrip("-–—: ").strip(),
        place=match["place"].strip(),
        month=_MONTHS[match["month"][:3].lower()],
        day=int(match["day"]),
        year=int(year) if year else None,
        agency=agency.strip() if agency else None,
    )
