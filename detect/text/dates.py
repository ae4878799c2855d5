"""Date expressions in English, Korean, Japanese and Chinese, resolved against the article's day.

Finding and resolving are separate: an expression is found once per article, and resolved per
event mention, because "on Friday" means the coming Friday in "will hold talks on Friday" and
the last one in "met on Friday". When the article's own date is unknown (`dated` False, the
reference is only a replay clock), only explicit calendar dates are resolved; weekdays and
"yesterday" are then unresolved but still say the event is recent.

Only days within years EARLIEST_YEAR..LATEST_YEAR are dates here. A day outside that window
("December 9999", "999999 days ago", an article stamped 0001-01-01 or 9999-12-31) is unknown,
never an error: resolving reads the window first, so date arithmetic cannot leave the range
`datetime.date` can hold.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal, Required, TypedDict

from detect.text.normalize import NormText

Kind = Literal["full", "month_day", "day", "month", "year", "weekday", "relative", "interval"]

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


# The years news about current events can be dated in: the oldest events an article recalls
# (the 1950-53 war, the 1910 annexation) and two centuries ahead. Beyond them a "date" is a typo,
# a placeholder (0001-01-01, 9999-12-31) or hostile input; the margin of a year on each side
# keeps "next year" or "a year before" of any day inside it a valid `date`.
EARLIEST_YEAR = 1900
LATEST_YEAR = 2200
# "N days ago" with more digits than this is far outside the window whatever the reference
# (and Python refuses to parse integers of more than 4300 digits).
_MAX_DAYS_DIGITS = 6


def in_window(day: date) -> bool:
    """Whether `day` lies within the years detection dates events in."""
    return EARLIEST_YEAR <= day.year <= LATEST_YEAR


def sane_reference(moment: datetime | None) -> date | None:
    """The article's day, or None when it lies outside the window (then dates relative to it
    are unknown)."""
    if moment is None:
        return None
    day = moment.date()
    return day if in_window(day) else None


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
        weekday, "yesterday", "that day", a bare day of the month as news reports write the
        days of the current week), even when it cannot be resolved."""
        if self.qualifier == "last_month":
            return False
        return self.kind in ("weekday", "day") or self.relative in _RECENT_RELATIVES

    @property
    def vague_past(self) -> bool:
        """Whether the phrase distances the event from the news cycle whatever the arithmetic
        says: "last week", "earlier this month", "last year"."""
        if self.kind == "month" and self.qualifier not in ("next", "this"):
            return True  # an event dated only by its month is not one of this week's
        return self.relative in _VAGUE_PAST or self.qualifier in ("last_year", "last_month")

    @property
    def tense_known(self) -> bool:
        """Whether the expression itself says if the event lies ahead or behind ("yesterday",
        "next week", "on January 26", "오는 7일"); a bare weekday or day of the month does not
        ("on Friday" is last Friday after "met", next Friday after "will meet")."""
        if self.kind in ("full", "month_day", "year"):
            return True
        if self.kind in ("month", "day", "weekday"):
            return self.year is not None or self.qualifier is not None
        return self.relative not in (None, "today", "same_day", "this_week", "this_month")

    @property
    def ahead(self) -> bool:
        """Whether the phrase puts the event ahead of the article: "tomorrow", "next week"."""
        return self.relative in _AHEAD or self.qualifier in ("next", "later")

    def resolve(self, reference: date | None, dated: bool, future: bool) -> DateSpan | None:
        """The days meant, given the article's day and whether the event lies ahead. An
        interval ("since 2017") dates no event; a day outside the window is unknown."""
        if reference is not None and not in_window(reference):
            reference = None
        if self.year is not None and not EARLIEST_YEAR <= self.year <= LATEST_YEAR:
            return None
        span = self._resolve(reference, dated, future)
        if span is None or not (in_window(span.start) and in_window(span.end)):
            return None
        return span

    def _resolve(self, reference: date | None, dated: bool, future: bool) -> DateSpan | None:
        if self.kind == "interval":
            return None
        if self.kind == "full":
            return _day_span(self.year, self.month, self.day)
        if self.kind == "year":
            return DateSpan(date(self.year or 1, 1, 1), date(self.year or 1, 12, 31))
        if self.kind == "month" and self.year:
            return _month_range(self.year, self.month or 1)
        if reference is None:
            return None
        if self.kind == "month_day":
            return _month_day(reference, self.month or 1, self.day or 1)
        if self.kind == "month":
            return _month_only(reference, self.month or 1, self.qualifier, future)
        if not dated:
            return None
        if self.kind == "day" and self.qualifier == "last_month":
            month0 = reference.month - 2
            return _day_span(reference.year + month0 // 12, month0 % 12 + 1, self.day)
        if self.kind == "day":
            ahead = self.qualifier == "next" or (self.qualifier != "last" and future)
            return _day_only(reference, self.day or 1, ahead)
        if self.kind == "weekday":
            return _weekday(reference, self.weekday or 0, self.qualifier, future)
        return _relative(reference, self.relative or "")


_RECENT_RELATIVES = frozenset(
    {
        "yesterday",
        "today",
        "earlier_today",
        "tomorrow",
        "this_week",
        "days_ago",
        "same_day",
        "hours_ago",
        "later",
    }
)
_VAGUE_PAST = frozenset(
    {"last_week", "last_month", "earlier_this_month", "this_month", "last_year"}
)
_AHEAD = frozenset({"tomorrow", "next_week", "next_month", "next_year", "later"})


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
    if qualifier == "last_year":
        return _month_range(reference.year - 1, month)
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
    if qualifier in ("next", "later") or (qualifier != "last" and future):
        delta = (weekday - reference.weekday()) % 7
    else:
        delta = -((reference.weekday() - weekday) % 7)
    day = reference + timedelta(days=delta)
    return DateSpan(day, day)


def _relative(reference: date, relative: str) -> DateSpan | None:
    monday = reference - timedelta(days=reference.weekday())
    if relative.startswith("ago:"):
        days = relative[4:].lstrip("0") or "0"
        if len(days) > _MAX_DAYS_DIGITS or int(days) >= reference.toordinal():
            return None  # before the first day a `date` can hold: unknown
        day = reference - timedelta(days=int(days))
        return DateSpan(day, day)
    spans = {
        "yesterday": (reference - timedelta(days=1), reference - timedelta(days=1)),
        "today": (reference, reference),
        "tomorrow": (reference + timedelta(days=1), reference + timedelta(days=1)),
        "this_week": (monday, monday + timedelta(days=6)),
        "last_week": (monday - timedelta(days=7), monday - timedelta(days=1)),
        "next_week": (monday + timedelta(days=7), monday + timedelta(days=13)),
        "earlier_this_month": (reference.replace(day=1), reference),
        "this_month": (reference.replace(day=1), reference),
        "earlier_this_year": (reference.replace(month=1, day=1), reference),
    }
    if relative in spans:
        return DateSpan(*spans[relative])
    if relative in ("last_month", "next_month"):
        month0 = reference.month - 1 + (-1 if relative == "last_month" else 1)
        return _month_range(reference.year + month0 // 12, month0 % 12 + 1)
    if relative in ("last_year", "next_year"):
        year = reference.year + (-1 if relative == "last_year" else 1)
        return DateSpan(date(year, 1, 1), date(year, 12, 31))
    return None


class DateFields(TypedDict, total=False):
    """What a pattern's builder reads from its match: DateExpr's fields after the position."""

    kind: Required[Kind]
    year: int | None
    month: int | None
    day: int | None
    weekday: int | None
    qualifier: str | None
    relative: str | None


Builder = Callable[[re.Match[str]], DateFields]


def _full(m: re.Match[str]) -> DateFields:
    return {"kind": "full", "year": int(m["y"]), "month": int(m["m"]), "day": int(m["d"])}


def _named_month_day(m: re.Match[str]) -> DateFields:
    month, day = _MONTHS[m["mon"].lower()], int(m["d"])
    if m["y"]:
        return {"kind": "full", "year": int(m["y"]), "month": month, "day": day}
    return {"kind": "month_day", "month": month, "day": day}


def _numeric_month_day(m: re.Match[str]) -> DateFields:
    return {"kind": "month_day", "month": int(m["m"]), "day": int(m["d"])}


def _month_year(m: re.Match[str]) -> DateFields:
    return {"kind": "month", "year": int(m["y"]), "month": _MONTHS[m["mon"].lower()]}


def _month(m: re.Match[str]) -> DateFields:
    qualifier = (m["q"] or "").lower()
    if qualifier == "since":
        return {"kind": "interval"}
    year = int(m["y"]) if m["y"] else None
    return {
        "kind": "month",
        "month": _MONTHS[m["mon"].lower()],
        "year": year,
        "qualifier": qualifier or None,
    }


def _weekday_en(m: re.Match[str]) -> DateFields:
    qualifier = (m["q"] or "").lower().split(" ")[0]
    qualifier = {"coming": "next", "earlier": "last"}.get(qualifier, qualifier)
    return {
        "kind": "weekday",
        "weekday": _WEEKDAYS[m["wd"].lower()],
        "qualifier": qualifier if qualifier in ("last", "next", "later") else None,
    }


def _weekday_cjk(m: re.Match[str]) -> DateFields:
    qualifier = {"지난": "last", "오는": "next", "先週": "last", "来週": "next", "上": "last"}
    return {
        "kind": "weekday",
        "weekday": _WEEKDAYS[m["wd"]],
        "qualifier": qualifier.get(m["q"] or ""),
    }


def _day(m: re.Match[str]) -> DateFields:
    qualifier = {"지난": "last", "오는": "next"}.get(m.groupdict().get("q") or "")
    return {"kind": "day", "day": int(m["d"]), "qualifier": qualifier}


def _day_of_last_month(m: re.Match[str]) -> DateFields:
    return {"kind": "day", "day": int(m["d"]), "qualifier": "last_month"}


def _year(m: re.Match[str]) -> DateFields:
    """A year, or a year and month; after "since" (or before 以来, 이후) an interval."""
    since = (m["q"] or "").lower() == "since" or bool(m.groupdict().get("since"))
    if since:
        return {"kind": "interval"}
    month = m.groupdict().get("m")
    if month:
        if not 1 <= int(month) <= 12:
            return {"kind": "interval"}  # not a month: a date that dates nothing
        return {"kind": "month", "year": int(m["y"]), "month": int(month)}
    return {"kind": "year", "year": int(m["y"])}


def _cjk_month(m: re.Match[str]) -> DateFields:
    last_year = ("지난해", "작년", "去年", "昨年")
    qualifier = "last_year" if m["q"] in last_year else {"지난": "last", "오는": "next"}.get(m["q"])
    if m["since"] or not 1 <= int(m["mon"]) <= 12:
        return {"kind": "interval"}  # "since October", or not a month: it dates no event
    return {"kind": "month", "month": int(m["mon"]), "qualifier": qualifier}


def _days_ago(m: re.Match[str]) -> DateFields:
    count = m["n"]
    # Digits stay as written: a thousand-digit count is found out of range when resolved.
    number = count if count.isdigit() else str(_NUMBER_WORDS.get(count, 0))
    return {"kind": "relative", "relative": f"ago:{number}"}


def _relative_words(m: re.Match[str]) -> DateFields:
    return {"kind": "relative", "relative": m.lastgroup}


_RELATIVE_EN = re.compile(
    r"(?:(?P<days_ago>(?:just\s+)?days\s+ago)|(?P<hours_ago>(?:just\s+)?hours\s+(?:ago|earlier))"
    r"|(?P<yesterday>yesterday)"
    r"|(?P<earlier_today>earlier\s+today|this\s+morning)"
    r"|(?P<later>later\s+(?:today|tonight|this\s+(?:week|month|year)))"
    r"|(?P<today>today|tonight|this\s+(?:afternoon|evening))"
    r"|(?P<same_day>(?:on\s+)?(?:that|the\s+same)\s+(?:day|morning|afternoon|evening))"
    r"|(?P<tomorrow>tomorrow)|(?P<this_week>(?:earlier\s+)?this\s+week)|(?P<last_week>last\s+week)"
    r"|(?P<next_week>next\s+week)|(?P<next_month>next\s+month)|(?P<next_year>next\s+year)"
    r"|(?P<earlier_this_month>earlier\s+(?:this|in\s+the)\s+month)|(?P<this_month>this\s+month)"
    r"|(?P<last_month>last\s+month)"
    r"|(?P<earlier_this_year>earlier\s+this\s+year)|(?P<last_year>last\s+year))\b"
)
_RELATIVE_CJK = re.compile(
    r"(?P<yesterday>어제|전날|昨日|きのう|昨天|昨晚|昨夜)|(?P<today>오늘|今日|本日|今天|今晨|今早|今朝|今夜)"
    r"|(?P<same_day>이날|당일|同日|当日|当天|この日)"
    r"|(?P<tomorrow>내일|明日|明天)|(?P<this_week>이번\s*주|今週|本周|这周)"
    r"|(?P<last_week>지난\s*주|先週|上周|上星期)|(?P<next_week>다음\s*주|来週|下周|下星期)"
    r"|(?P<earlier_this_month>이달\s*초|今月上旬|本月初)|(?P<last_month>지난\s*달|先月|上个月|上月)"
    r"|(?P<next_month>다음\s*달|내달|来月|下个月|下月)"
    r"|(?P<last_year>지난\s*해|작년|昨年|去年)|(?P<next_year>내년|来年|明年)"
)
_ISO = re.compile(r"(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})\b")
_MONTH_DAY = re.compile(
    rf"(?P<mon>{_MONTH})\.?\s+(?P<d>\d{{1,2}})(?:st|nd|rd|th)?\b(?:,?\s+(?P<y>\d{{4}})\b)?"
)
_DAY_MONTH = re.compile(
    rf"(?P<d>\d{{1,2}})(?:st|nd|rd|th)?\s+(?P<mon>{_MONTH})\b\.?(?:,?\s+(?P<y>\d{{4}})\b)?"
)
_WEEKDAY_EN = re.compile(
    rf"(?:(?P<q>last|next|this|on|coming|later|earlier(?:\s+on)?)\s+)?(?P<wd>{_WEEKDAY})\b"
)
_DAYS_AGO = re.compile(r"(?P<n>\d+|two|three|four|five|six|a)\s+days?\s+ago\b")
_MONTH_YEAR = re.compile(rf"(?P<mon>{_MONTH_CAP})\s+(?P<y>\d{{4}})\b")
_MONTH_ONLY = re.compile(
    r"(?P<q>[Ll]ast|[Nn]ext|[Tt]his|[Ii]n|[Ss]ince|[Ee]arly|[Ll]ate|[Mm]id)[\s-]+"
    rf"(?P<mon>{_MONTH_CAP})\b(?:,?\s+(?P<y>(?:19|20)\d{{2}})\b)?"
)
# "in 2013", "since 2006", "in early 2019": a year needs a word before it (a bare number may be
# a count). English day of the month alone: "on the 27th".
_YEAR_EN = re.compile(
    r"(?P<q>in|since|during|until|by|of)\s+(?:(?:early|late|mid)[\s-]+)?(?P<y>(?:19|20)\d{2})\b"
    r"(?![\s-]*(?:km|kilomet|miles|troops|people|won|yen|dollars|tons))"
)
_DAY_EN = re.compile(
    r"(?:on\s+)?the\s+(?P<d>\d{1,2})(?:st|nd|rd|th)\b(?!\s+(?:century|anniversary))"
)
# Latin patterns are tried only where a word that can start them begins: one regex pass finds
# those words (a Python loop over every word, or ten passes of ten patterns, costs more), and a
# dictionary says which patterns each may start. `cased` patterns need capitals: a month name
# alone ("last November"; "may" is not May).
#
# Some of those words are among the commonest of English ("the", "a", "in", "on", "of"), and
# trying two or three patterns at each was most of the cost of finding dates. So each word is
# found only where it is followed by what every one of its patterns needs after it (`follow`,
# read on the folded text, where a hyphen between letters is a space): "the" only before
# "same" or a digit. A `follow` may let through more than its patterns match (they decide),
# never less: tests/detect/test_fast_paths.py compares the dates found with those found by
# trying every word.
_Try = tuple[re.Pattern[str], Builder, bool]  # pattern, builder, on the cased text
_BY_WORD: dict[str, tuple[_Try, ...]] = {}
_FOLLOW: dict[str, tuple[str, ...] | None] = {}  # None: some pattern needs nothing after it


def _starts(words: tuple[str, ...], follow: str | None, *tries: _Try) -> None:
    for word in words:
        _BY_WORD[word] = (*_BY_WORD.get(word, ()), *tries)
        known = _FOLLOW.get(word, ())
        _FOLLOW[word] = None if follow is None or known is None else (*known, follow)


_MONTH_NAME = (
    r"(?:january|february|march|april|may|june|july|august|september|october|november|december)"
)
_starts(
    tuple(_MONTHS),
    r"\.?\s+\d",
    (_MONTH_DAY, _named_month_day, False),
    (_MONTH_YEAR, _month_year, True),
)
_starts(
    ("last", "next", "this", "on", "coming", "later", "earlier"),
    rf"(?:\s+on)?\s+{_WEEKDAY}",
    (_WEEKDAY_EN, _weekday_en, False),
)
_starts(tuple(w for w in _WEEKDAYS if w.isascii()), None, (_WEEKDAY_EN, _weekday_en, False))
_starts(
    ("two", "three", "four", "five", "six", "a"), r"\s+days?\s+ago", (_DAYS_AGO, _days_ago, False)
)
for _words, _follow in (
    (("just",), r"\s+(?:days|hours)"),
    (("days",), r"\s+ago"),
    (("hours",), r"\s+(?:ago|earlier)"),
    (("yesterday", "today", "tonight", "tomorrow"), None),
    (("earlier",), r"\s+(?:today|this|in)"),
    (("later",), r"\s+(?:today|tonight|this)"),
    (("this",), r"\s+(?:morning|afternoon|evening|week|month)"),
    (("last", "next"), r"\s+(?:week|month|year)"),
    (("on",), r"\s+(?:that|the)"),
    (("that",), r"\s+(?:day|morning|afternoon|evening)"),
    (("the",), r"\s+same"),
):
    _starts(_words, _follow, (_RELATIVE_EN, _relative_words, False))
_starts(
    ("last", "next", "this", "in", "since", "early", "late", "mid"),
    rf"[\s-]+{_MONTH_NAME}",
    (_MONTH_ONLY, _month, True),
)
_starts(
    ("in", "since", "during", "until", "by", "of"),
    r"\s+(?:early|late|mid|19|20)",
    (_YEAR_EN, _year, False),
)
_starts(("on",), r"\s+the\s+\d", (_DAY_EN, _day, False))
_starts(("the",), r"\s+\d", (_DAY_EN, _day, False))
_BY_NUMBER: tuple[_Try, ...] = (
    (_ISO, _full, False),
    (_DAY_MONTH, _named_month_day, False),
    (_DAYS_AGO, _days_ago, False),
)
# What comes after a number that begins one of _BY_NUMBER's dates (the trigger's word boundary
# after the number rules out "3rd"): "-" (2026-01-25), a month (5 March) or "days ago". Most
# numbers of news are counts, amounts and years, and trying three patterns at each was a
# third of finding dates.
_NUMBER_FOLLOW = rf"-|\s+(?:{_MONTH}|days?\s)"


def trigger(follows: dict[str, tuple[str, ...] | None], number_follow: str) -> re.Pattern[str]:
    """The pattern of the words (and numbers) a Latin date can begin with, each only where
    one of its `follows` comes next (anywhere, for a word whose follows are None; a number,
    where `number_follow` does).

    The words are spelled as a trie ("t(?:he|his|hat|...)"): the regex engine tries the
    alternatives of a group one after another at every word of the text, and sixty words
    side by side cost three times what a few first letters do."""
    trie: dict[str, Any] = {}
    for word, follow in follows.items():
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = follow
    return re.compile(rf"\b(?:\d+(?={number_follow})|{_trie_pattern(trie)})\b")


def _trie_pattern(node: dict[str, Any]) -> str:
    """The alternatives under a trie node; a word ending here comes last, with its follows as
    a lookahead."""
    alternatives = [re.escape(char) + _trie_pattern(node[char]) for char in sorted(node) if char]
    if "" in node:
        follow = node[""]
        alternatives.append("" if follow is None else f"(?={'|'.join(follow)})")
    return alternatives[0] if len(alternatives) == 1 else "(?:" + "|".join(alternatives) + ")"


_TRIGGER = trigger(_FOLLOW, _NUMBER_FOLLOW)


# Each CJK pattern with the characters one of which it cannot match without (a cheap test
# that spares most texts most patterns).
_CJK: tuple[tuple[re.Pattern[str], Builder, str], ...] = (
    (
        re.compile(r"(?P<y>\d{4})\s*[년年]\s*(?P<m>\d{1,2})\s*[월月]\s*(?P<d>\d{1,2})\s*[일日号]"),
        _full,
        "年년",
    ),
    (
        re.compile(r"(?<!\d)(?P<m>\d{1,2})\s*[월月]\s*(?P<d>\d{1,2})\s*[일日号]"),
        _numeric_month_day,
        "月월",
    ),
    # Korean official style: "7.12.(수)" (the weekday in brackets tells it from a decimal).
    (
        re.compile(r"(?<![\d.])(?P<m>\d{1,2})\.\s?(?P<d>\d{1,2})\.?\s*\([월화수목금토일]\)"),
        _numeric_month_day,
        "(",
    ),
    (
        re.compile(
            r"(?P<q>)(?P<y>(?:19|20)\d{2})\s*[년年](?:\s*(?P<m>\d{1,2})\s*[월月](?!\s*\d))?"
            r"(?P<since>\s*(?:以来|以來|이후|来|來|ぶり|만에|만의))?"
        ),
        _year,
        "年년",
    ),
    (
        re.compile(
            r"(?:(?P<q>지난해|작년|지난|오는|去年|昨年)\s*)?(?<![\d~〜-])(?P<mon>\d{1,2})\s*[월月]"
            r"(?![\s\d]*[일日号])(?P<since>\s*(?:以来|이후|来))?"
        ),
        _cjk_month,
        "月월",
    ),
    (re.compile(r"(?:(?P<q>지난|오는)\s*)?(?P<wd>[월화수목금토일])요일"), _weekday_cjk, "요"),
    (re.compile(r"(?P<q>先週|来週)?(?P<wd>[月火水木金土日])曜日?"), _weekday_cjk, "曜"),
    (
        re.compile(r"(?P<q>上)?(?:星期|周|週|礼拜)(?P<wd>[一二三四五六日天])"),
        _weekday_cjk,
        "星周週礼",
    ),
    (
        re.compile(r"(?P<q>지난달|지난 달|先月|上个月|上月)\s*(?P<d>\d{1,2})\s*[일日号]"),
        _day_of_last_month,
        "지先上",
    ),
    (
        re.compile(
            r"(?:(?P<q>지난|오는)\s*)?(?<![\d월月])(?:\d{1,2}\s*[~∼〜-]\s*)?(?P<d>\d{1,2})일(?![간째])"
        ),
        _day,
        "일",
    ),
    (re.compile(r"(?<![\d月年])(?P<d>\d{1,2})日(?![間间])"), _day, "日"),
    (_RELATIVE_CJK, _relative_words, ""),
)
_HAS_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")


def _latin(text: NormText, words: re.Pattern[str] = _TRIGGER) -> list[DateExpr]:
    """Latin-script date expressions, tried where `words` finds a word that can begin one."""
    found = []
    for word in words.finditer(text.folded):
        start = word.start()
        tries = _BY_NUMBER if word.group()[0].isdigit() else _BY_WORD[word.group()]
        for pattern, build, cased in tries:
            m = pattern.match(text.cased if cased else text.folded, start)
            if m:
                found.append(DateExpr(start, m.end(), text.cased[start : m.end()], **build(m)))
    return found


def _cjk(text: NormText) -> list[DateExpr]:
    found = []
    for pattern, build, needs in _CJK:
        if needs and not any(char in text.cased for char in needs):
            continue
        for m in pattern.finditer(text.cased):
            found.append(DateExpr(m.start(), m.end(), m.group(), **build(m)))
    return found


def find_dates(text: NormText) -> list[DateExpr]:
    """Date expressions in a normalised text, earliest first, not overlapping."""
    found = _latin(text)
    if not text.cased.isascii() and _HAS_CJK.search(text.cased):  # isascii: one flag
        found += _cjk(text)
    found.sort(key=lambda d: (d.start, -(d.end - d.start)))
    kept: list[DateExpr] = []
    for expr in found:
        if not kept or expr.start >= kept[-1].end:
            kept.append(expr)
    return kept
