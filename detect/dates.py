"""Date expressions in English, Korean, Japanese and Chinese, resolved against the article's day.

Finding and resolving are separate: an expression is found once per article, and resolved per
event mention, because "on Friday" means the coming Friday in "will hold talks on Friday" and
the last one in "met on Friday". When the article's own date is unknown (`dated` False, the
reference is only a replay clock), only explicit calendar dates are resolved; weekdays and
"yesterday" are then unresolved but still say the event is recent.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from detect.textnorm import NormText

Kind = Literal["full", "month_day", "day", "month", "weekday", "relative"]

_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ),
        start=1,
    )
    for name in names
}
_WEEKDAYS = {
    name: number
    for number, names in enumerate(
        (
            ("monday", "월", "月", "一"),
            ("tuesday", "화", "火", "二"),
            ("wednesday", "수", "水", "三"),
            ("thursday", "목", "木", "四"),
            ("friday", "금", "金", "五"),
            ("saturday", "토", "土", "六"),
            ("sunday", "일", "日", "天"),
        )
    )
    for name in names
}
_NUMBER_WORDS = {"a": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6}
_MONTH = (
    r"(january|february|march|april|may|june|july|august|september|october|november|december"
    r"|jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec)"
)
_MONTH_CAP = (
    r"(January|February|March|April|May|June|July|August|September|October|November|December)"
)
_WEEKDAY = r"(monday|tuesday|wednesday|thursday|friday|saturday|sunday)"


@dataclass(frozen=True, slots=True)
class DateSpan:
    """A day or a range of days."""

    start: date
    end: date

    @property
    def exact(self) -> date | None:
        """The day, when the span is a single day."""
        return self.start if self.start == self.end else None


@dataclass(frozen=True, slots=True)
class DateExpr:
    """One date expression found in a text (positions in the article's normalised text)."""

    start: int
    end: int
    text: str
    kind: Kind
    year: int | None = None
    month: int | None = None
    day: int | None = None
    weekday: int | None = None
    qualifier: str | None = None
    relative: str | None = None

    @property
    def recent(self) -> bool:
        """Whether the expression places the event within days of the article by itself (a
        weekday, "yesterday", "this week"), even when it cannot be resolved."""
        return self.kind == "weekday" or self.relative in _RECENT_RELATIVES

    def resolve(self, reference: date | None, dated: bool, future: bool) -> DateSpan | None:
        """The days meant, given the article's day and whether the event lies ahead."""
        if self.kind == "full":
            return _day_span(self.year, self.month, self.day)
        if reference is None:
            return None
        if self.kind == "month_day":
            return _month_day(reference, self.month or 1, self.day or 1)
        if self.kind == "month":
            return _month_only(reference, self.month or 1, self.qualifier, future)
        if not dated:
            return None
        if self.kind == "day":
            return _day_only(reference, self.day or 1, future)
        if self.kind == "weekday":
            return _weekday(reference, self.weekday or 0, self.qualifier, future)
        return _relative(reference, self.relative or "")


_RECENT_RELATIVES = frozenset({"yesterday", "today", "tomorrow", "this_week", "days_ago"})


def _day_span(year: int | None, month: int | None, day: int | None) -> DateSpan | None:
    try:
        day_ = date(year or 1, month or 1, day or 1)
    except ValueError:
        return None
    return DateSpan(day_, day_)


def _month_day(reference: date, month: int, day: int) -> DateSpan | None:
    # The year that puts the date nearest the article: "January 3" read in late December is
    # next year's.
    candidates = [_day_span(reference.year + delta, month, day) for delta in (-1, 0, 1)]
    spans = [s for s in candidates if s is not None]
    if not spans:
        return None
    return min(spans, key=lambda s: abs((s.start - reference).days))


def _month_range(year: int, month: int) -> DateSpan:
    first = date(year, month, 1)
    following = date(year + month // 12, month % 12 + 1, 1)
    return DateSpan(first, following - timedelta(days=1))


def _month_only(reference: date, month: int, qualifier: str | None, future: bool) -> DateSpan:
    year = reference.year
    backward = qualifier == "last" or (qualifier not in ("next", "this") and not future)
    if backward and (month > reference.month or (qualifier == "last" and month == reference.month)):
        year -= 1
    elif not backward and month < reference.month:
        year += 1
    return _month_range(year, month)


def _day_only(reference: date, day: int, future: bool) -> DateSpan | None:
    step = 1 if future else -1
    for months in (0, step):
        month0 = reference.month - 1 + months
        span = _day_span(reference.year + month0 // 12, month0 % 12 + 1, day)
        if span and ((span.start >= reference) if future else (span.start <= reference)):
            return span
    return None


def _weekday(reference: date, weekday: int, qualifier: str | None, future: bool) -> DateSpan:
    if qualifier == "next" or (qualifier != "last" and future):
        delta = (weekday - reference.weekday()) % 7
    else:
        delta = -((reference.weekday() - weekday) % 7)
    day = reference + timedelta(days=delta)
    return DateSpan(day, day)


def _relative(reference: date, relative: str) -> DateSpan | None:
    monday = reference - timedelta(days=reference.weekday())
    if relative.startswith("ago:"):
        day = reference - timedelta(days=int(relative[4:]))
        return DateSpan(day, day)
    spans = {
        "yesterday": (reference - timedelta(days=1), reference - timedelta(days=1)),
        "today": (reference, reference),
        "tomorrow": (reference + timedelta(days=1), reference + timedelta(days=1)),
        "this_week": (monday, monday + timedelta(days=6)),
        "last_week": (monday - timedelta(days=7), monday - timedelta(days=1)),
        "earlier_this_month": (reference.replace(day=1), reference),
        "earlier_this_year": (reference.replace(month=1, day=1), reference),
    }
    if relative in spans:
        return DateSpan(*spans[relative])
    if relative == "last_month":
        month0 = reference.month - 2
        return _month_range(reference.year + month0 // 12, month0 % 12 + 1)
    if relative == "last_year":
        return DateSpan(date(reference.year - 1, 1, 1), date(reference.year - 1, 12, 31))
    return None


Builder = Callable[[re.Match[str]], dict[str, object]]


def _full(m: re.Match[str]) -> dict[str, object]:
    return {"kind": "full", "year": int(m["y"]), "month": int(m["m"]), "day": int(m["d"])}


def _named_month_day(m: re.Match[str]) -> dict[str, object]:
    values: dict[str, object] = {"month": _MONTHS[m["mon"].lower()], "day": int(m["d"])}
    if m["y"]:
        return {"kind": "full", "year": int(m["y"]), **values}
    return {"kind": "month_day", **values}


def _numeric_month_day(m: re.Match[str]) -> dict[str, object]:
    return {"kind": "month_day", "month": int(m["m"]), "day": int(m["d"])}


def _month_year(m: re.Match[str]) -> dict[str, object]:
    return {"kind": "full", "year": int(m["y"]), "month": _MONTHS[m["mon"].lower()], "day": 1}


def _month(m: re.Match[str]) -> dict[str, object]:
    qualifier = (m["q"] or "").lower()
    return {"kind": "month", "month": _MONTHS[m["mon"].lower()], "qualifier": qualifier or None}


def _weekday_en(m: re.Match[str]) -> dict[str, object]:
    qualifier = (m["q"] or "").lower()
    return {
        "kind": "weekday",
        "weekday": _WEEKDAYS[m["wd"].lower()],
        "qualifier": qualifier if qualifier in ("last", "next") else None,
    }


def _weekday_cjk(m: re.Match[str]) -> dict[str, object]:
    qualifier = {"지난": "last", "오는": "next", "先週": "last", "来週": "next", "上": "last"}
    return {
        "kind": "weekday",
        "weekday": _WEEKDAYS[m["wd"]],
        "qualifier": qualifier.get(m["q"] or ""),
    }


def _day(m: re.Match[str]) -> dict[str, object]:
    return {"kind": "day", "day": int(m["d"])}


def _days_ago(m: re.Match[str]) -> dict[str, object]:
    count = m["n"]
    number = int(count) if count.isdigit() else _NUMBER_WORDS.get(count, 0)
    return {"kind": "relative", "relative": f"ago:{number}"}


def _relative_words(m: re.Match[str]) -> dict[str, object]:
    return {"kind": "relative", "relative": m.lastgroup}


_RELATIVE_EN = re.compile(
    r"(?:(?P<days_ago>(?:just\s+)?days\s+ago)|(?P<yesterday>yesterday)"
    r"|(?P<today>(?:earlier\s+)?today|tonight|this\s+(?:morning|afternoon|evening))"
    r"|(?P<tomorrow>tomorrow)|(?P<this_week>(?:earlier\s+)?this\s+week)|(?P<last_week>last\s+week)"
    r"|(?P<earlier_this_month>earlier\s+(?:this|in\s+the)\s+month)|(?P<last_month>last\s+month)"
    r"|(?P<earlier_this_year>earlier\s+this\s+year)|(?P<last_year>last\s+year))\b"
)
_RELATIVE_CJK = re.compile(
    r"(?P<yesterday>어제|昨日|昨天)|(?P<today>오늘|今日|本日|今天)|(?P<tomorrow>내일|明日|明天)"
    r"|(?P<this_week>이번\s*주|今週|本周|这周)|(?P<last_week>지난\s*주|先週|上周|上週)"
    r"|(?P<earlier_this_month>이달\s*초|今月上旬|本月初)|(?P<last_month>지난\s*달|先月|上个月|上月)"
    r"|(?P<last_year>지난\s*해|작년|昨年|去年)"
)
# Latin patterns, tried only where a word that can start them begins (a dictionary look-up per
# word is much cheaper than scanning the text with each regex). `cased` patterns need capitals:
# a month name alone ("last November"; "may" is not May).
_ISO = re.compile(r"(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})\b")
_MONTH_DAY = re.compile(
    rf"(?P<mon>{_MONTH})\.?\s+(?P<d>\d{{1,2}})(?:st|nd|rd|th)?\b(?:,?\s+(?P<y>\d{{4}})\b)?"
)
_DAY_MONTH = re.compile(
    rf"(?P<d>\d{{1,2}})(?:st|nd|rd|th)?\s+(?P<mon>{_MONTH})\b\.?(?:,?\s+(?P<y>\d{{4}})\b)?"
)
_WEEKDAY_EN = re.compile(rf"(?:(?P<q>last|next|this|on|coming)\s+)?(?P<wd>{_WEEKDAY})\b")
_DAYS_AGO = re.compile(r"(?P<n>\d+|two|three|four|five|six|a)\s+days?\s+ago\b")
_MONTH_YEAR = re.compile(rf"(?P<mon>{_MONTH_CAP})\s+(?P<y>\d{{4}})\b")
_MONTH_ONLY = re.compile(
    r"(?P<q>[Ll]ast|[Nn]ext|[Tt]his|[Ii]n|[Ss]ince|[Ee]arly|[Ll]ate|[Mm]id)[\s-]+"
    rf"(?P<mon>{_MONTH_CAP})\b"
)
_Try = tuple[re.Pattern[str], Builder, bool]  # pattern, builder, on the cased text
_BY_NUMBER: tuple[_Try, ...] = (
    (_ISO, _full, False),
    (_DAY_MONTH, _named_month_day, False),
    (_DAYS_AGO, _days_ago, False),
)
_BY_WORD: dict[str, tuple[_Try, ...]] = {}
for _word in _MONTHS:
    _BY_WORD[_word] = ((_MONTH_DAY, _named_month_day, False), (_MONTH_YEAR, _month_year, True))
for _word in ("last", "next", "this", "on", "coming", *(w for w in _WEEKDAYS if w.isascii())):
    _BY_WORD[_word] = ((_WEEKDAY_EN, _weekday_en, False),)
for _word in ("two", "three", "four", "five", "six", "a"):
    _BY_WORD[_word] = ((_DAYS_AGO, _days_ago, False),)
for _word in (
    "just",
    "days",
    "yesterday",
    "earlier",
    "today",
    "tonight",
    "this",
    "tomorrow",
    "last",
):
    _BY_WORD[_word] = (*_BY_WORD.get(_word, ()), (_RELATIVE_EN, _relative_words, False))
for _word in ("last", "next", "this", "in", "since", "early", "late", "mid"):
    _BY_WORD[_word] = (*_BY_WORD.get(_word, ()), (_MONTH_ONLY, _month, True))
_WORD_AT = re.compile(r"[a-z0-9]+")
_CJK: tuple[tuple[re.Pattern[str], Builder], ...] = (
    (
        re.compile(r"(?P<y>\d{4})\s*[년年]\s*(?P<m>\d{1,2})\s*[월月]\s*(?P<d>\d{1,2})\s*[일日号]"),
        _full,
    ),
    (re.compile(r"(?<!\d)(?P<m>\d{1,2})\s*[월月]\s*(?P<d>\d{1,2})\s*[일日号]"), _numeric_month_day),
    (re.compile(r"(?:(?P<q>지난|오는)\s*)?(?P<wd>[월화수목금토일])요일"), _weekday_cjk),
    (re.compile(r"(?P<q>先週|来週)?(?P<wd>[月火水木金土日])曜日?"), _weekday_cjk),
    (re.compile(r"(?P<q>上)?(?:星期|周|週|礼拜)(?P<wd>[一二三四五六日天])"), _weekday_cjk),
    (re.compile(r"(?:지난|오는)?\s*(?<![\d월月])(?P<d>\d{1,2})일(?![간째])"), _day),
    (re.compile(r"(?<![\d月年])(?P<d>\d{1,2})日(?![間间])"), _day),
    (_RELATIVE_CJK, _relative_words),
)
_HAS_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")


def _latin(text: NormText) -> list[DateExpr]:
    found = []
    for start in text.token_starts:
        word = _WORD_AT.match(text.folded, start)
        if word is None:
            continue
        tries = _BY_NUMBER if word.group().isdigit() else _BY_WORD.get(word.group(), ())
        for pattern, build, cased in tries:
            m = pattern.match(text.cased if cased else text.folded, start)
            if m:
                found.append(DateExpr(start, m.end(), text.cased[start : m.end()], **build(m)))  # type: ignore[arg-type]
    return found


def _cjk(text: NormText) -> list[DateExpr]:
    found = []
    for pattern, build in _CJK:
        for m in pattern.finditer(text.cased):
            found.append(DateExpr(m.start(), m.end(), m.group(), **build(m)))  # type: ignore[arg-type]
    return found


def find_dates(text: NormText) -> list[DateExpr]:
    """Date expressions in a normalised text, earliest first, not overlapping."""
    found = _latin(text)
    if _HAS_CJK.search(text.cased):
        found += _cjk(text)
    found.sort(key=lambda d: (d.start, -(d.end - d.start)))
    kept: list[DateExpr] = []
    for expr in found:
        if not kept or expr.start >= kept[-1].end:
            kept.append(expr)
    return kept
