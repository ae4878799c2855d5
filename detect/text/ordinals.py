"""The ordinal an article gives an event ("its sixth nuclear test", "6차 핵실험", "第七次外长会"):
two mentions with different ordinals are two events, however alike they look otherwise."""

from __future__ import annotations

import re

_WORDS = {
    "first": 1,
    "second": 2,
    "third": 3,
    "fourth": 4,
    "fifth": 5,
    "sixth": 6,
    "seventh": 7,
    "eighth": 8,
    "ninth": 9,
    "tenth": 10,
}
_HAN = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}
# The ordinal must end right before the event word, or a few describing words before it.
_ORDINAL = re.compile(
    r"(?:\b(?P<word>first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth)"
    r"|\b(?P<digits>\d{1,2})(?:st|nd|rd|th))(?:\s+[\w-]+){0,2}\s*$"
    r"|(?:제\s*)?(?P<ko>\d{1,2})\s*차(?:\s+\S+){0,2}\s*$"
    r"|第?\s*(?P<ja>\d{1,2})\s*(?:回目|度目)の?[\u3040-\u30ff\u4e00-\u9fff]{0,4}\s*$"
    r"|第\s*(?P<zh>\d{1,2}|[一二三四五六七八九十])\s*[次届屆回][\u3040-\u30ff\u4e00-\u9fff]{0,4}\s*$",
    re.IGNORECASE,
)
_REACH = 30  # characters before the event word that may hold its ordinal


def ordinal_before(text: str, start: int) -> int | None:
    """The ordinal that ends just before position `start` of `text`, if any."""
    match = _ORDINAL.search(text[max(0, start - _REACH) : start])
    if match is None:
        return None
    if match["word"]:
        return _WORDS[match["word"].lower()]
    number = match["digits"] or match["ko"] or match["ja"] or match["zh"]
    return int(number) if number.isdigit() else _HAN[number]
