"""Fact extractors: built-in ones (missile count, apogee, range, flight time, launch site, local
time, impact area, weapon type, location) and regex ones a rule defines inline.

Every value is JSON-ready: str, int, float or list[str].
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from detect.rules.aliases import EntityMention
from detect.rules.ruleset import FactSpec

FactValue = str | int | float | list[str]
Extractor = Callable[[str, Sequence[EntityMention]], FactValue | None]

_I = re.IGNORECASE
_WORD_NUMBERS = {
    "a": 1,
    "an": 1,
    "one": 1,
    "single": 1,
    "a single": 1,
    "two": 2,
    "a pair of": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
}
_CJK_NUMBERS = {
    "一": 1,
    "二": 2,
    "两": 2,
    "兩": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
    "十": 10,
}
_APPROX = (
    r"(?:(?:about|around|roughly|approximately|some|nearly|almost|up\s+to|more\s+than|over"
    r"|at\s+least|an\s+estimated|a\s+maximum\s+of|~)\s*)*"
)
_NUMBER = r"(?P<v>\d[\d,]*(?:\.\d+)?)"
_UNIT = r"\s*-?\s*(?P<u>km|kilomet(?:er|re)s?|miles?)\b"
# Korean, Japanese and Chinese: particles and "about" between a fact's name and its number
# ("고도는 약 80km", "最高高度は約80キロ"), and the units after it ("80여km").
_CJK_FILLER = r"(?:\s*(?:는|은|가|이|에|は|が|で|约|約|약|およそ|大约|最大|为|為|达|達|,))*\s*"
_CJK_UNIT = r"\s*(?:여\s*)?(?P<u>km|킬로미터|킬로|キロメートル|キロ|公里|千米)"
# Up to four describing words between a number and "missiles", none that ends the phrase.
_FILLER = (
    r"(?:(?!(?:of|the|its|their|after|before|from|to|at|on|in|and|or|with|by|for|that|which"
    r"|than|was|were)\b)[\w-]+\s+){0,4}?"
)
_MISSILE_NOUN = r"(?:missiles?|rockets?|projectiles?|ICBMs?|SRBMs?|IRBMs?|SLBMs?)\b"

_COUNT = (
    re.compile(
        rf"\b(?P<n>\d{{1,2}}|a\s+single|a\s+pair\s+of|an?|one|two|three|four|five|six|seven|eight|nine|ten)\s+{_FILLER}{_MISSILE_NOUN}",
        _I,
    ),
    re.compile(
        r"(?:미사일|발사체|ミサイル|飛翔体|导弹|導彈)[^\d。.]{0,8}?(?P<n>\d{1,2})\s*(?:발|発)"
    ),
    re.compile(
        r"(?P<n>\d{1,2}|[一二两兩三四五六七八九十])\s*[枚颗發发]\s*\S{0,6}?(?:导弹|導彈|ミサイル)"
    ),
)
_APOGEE = (
    re.compile(rf"\b(?:altitudes?|apogee|heights?)\s+of\s+{_APPROX}{_NUMBER}{_UNIT}", _I),
    re.compile(
        rf"\b(?:rose|climbed|soared|reached)\s+(?:to\s+)?(?:an?\s+)?{_APPROX}{_NUMBER}{_UNIT}\s+(?:high|in\s+altitude)",
        _I,
    ),
    re.compile(
        rf"(?:정점\s*고도|최고\s*고도|고도|最高高度|最大高度|高度){_CJK_FILLER}(?P<v>\d[\d,]*(?:\.\d+)?)"
        rf"{_CJK_UNIT}"
    ),
)
_RANGE = (
    re.compile(
        rf"\b(?:flew|flown|flying|flies|travell?ed|travell?ing|covered|range\s+of|distance\s+of)\s+(?:for\s+)?{_APPROX}{_NUMBER}{_UNIT}",
        _I,
    ),
    re.compile(
        rf"(?:비행\s*거리|사거리|飛行距離|飞行距离|射程){_CJK_FILLER}(?P<v>\d[\d,]*){_CJK_UNIT}"
    ),
    re.compile(
        rf"(?:약|約|约)\s*(?P<v>\d[\d,]*){_CJK_UNIT}\s*(?:를|을|を|)?\s*(?:비행|飛行|飞行|날아)"
    ),
)
_FLIGHT_TIME = (
    re.compile(
        rf"\b(?:flew|flight|flying|flown)\s+(?:time\s+(?:of|was)\s+)?(?:for\s+)?{_APPROX}"
        r"(?P<v>\d{1,3})\s*minutes",
        _I,
    ),
    re.compile(r"\b(?P<v>\d{1,3})-minute\s+flight", _I),
    re.compile(rf"(?:비행\s*시간|飛行時間|飞行时间){_CJK_FILLER}(?P<v>\d{{1,3}})\s*(?:분|分)"),
    re.compile(r"(?P<v>\d{1,3})\s*(?:분간|分間|分钟|分鐘)\s*(?:가량\s*)?(?:비행|飛行|飞行)"),
)
_SITE = (
    re.compile(
        r"\b(?:launch\w*|fired|fire|originated|lifted\s+off|took\s+off)\s+(?:\w+\s+){0,2}?from\s+"
        r"(?:(?:a|an|the)\s+(?:region|area|site|location|place|vicinity)\s+(?:in|near|of|around)\s+|the\s+|near\s+)?"
        r"(?P<v>(?:(?:[Nn]orth|[Ss]outh|[Ee]ast|[Ww]est)(?:ern|east|west|eastern|western)?\s+)?"
        r"[A-Z][\w'-]*(?:\s+(?:[A-Z][\w'-]*|[Pp]rovince|[Cc]ounty|[Cc]ity|area|region))*)"
    ),
    re.compile(
        r"(?<![\d가-힣])(?P<v>[가-힣]{2,}(?:\s[가-힣]{2,}){0,2})\s*(?:일대|일원|인근|부근|지역)에서"
    ),
    re.compile(r"(?P<v>[\u4e00-\u9fff\u30a0-\u30ff]{2,10}?)(?:付近|周辺|一帯|郊外)から"),
    re.compile(r"从(?P<v>[\u4e00-\u9fff]{2,10}?)(?:附近|一带|地区)"),
)
_TIME_12 = re.compile(r"\b(?P<h>\d{1,2})(?:[:.](?P<m>\d{2}))?\s*(?P<ap>[ap])\.?\s?m\b\.?", _I)
_TIME_24 = re.compile(r"\b(?P<h>[01]?\d|2[0-3]):(?P<m>[0-5]\d)\b(?!\s*[ap]\.?\s?m)", _I)
_TIME_CJK = re.compile(
    r"(?P<ap>오전|오후|午前|午後|上午|下午|凌晨|晚上)\s*(?P<h>\d{1,2})\s*[시時时点點](?:\s*(?P<m>\d{1,2})\s*분|\s*(?P<m2>\d{1,2})\s*分)?"
)
_IMPACT = (
    re.compile(
        r"\b(?:land(?:ed|ing|s)?|fell|fallen|falling|splashed\s+down|crashed|impacted|dropped)\s+(?:\w+\s+){0,2}?"
        r"(?P<v>(?:outside|inside|within|in|into|off)\s+(?:of\s+)?(?:the\s+)?[^,.;()]{2,70}?"
        r"(?:exclusive\s+economic\s+zone|EEZ|sea|waters|ocean|coast|strait|bay)(?:\s*\(EEZ\))?(?:\s+of\s+[A-Z]\w+)?)",
        _I,
    ),
    re.compile(r"(?P<v>\S{0,10}\s*배타적\s*경제\s*수역(?:\s*\(EEZ\))?\s*(?:밖|바깥|안|내))"),
    re.compile(r"(?P<v>[^、。\s]{0,10}排他的経済水域(?:\(EEZ\))?の?(?:外|内)側?)"),
    re.compile(r"落在(?P<v>[^，。]{2,20}?(?:专属经济区|經濟海域|海域)(?:外|内|以外)?)"),
)


def _number(text: str) -> int | float:
    value = float(text.replace(",", ""))
    return int(value) if value.is_integer() else value


def _distance(pattern_list: Sequence[re.Pattern[str]], text: str) -> int | float | None:
    for pattern in pattern_list:
        match = pattern.search(text)
        if match:
            value = _number(match["v"])
            if match["u"].lower().startswith("mile"):
                return round(value * 1.609)
            return value
    return None


def count(text: str, _entities: Sequence[EntityMention]) -> int | None:
    """How many missiles: "two ballistic missiles", "미사일 2발", "两枚导弹"."""
    for pattern in _COUNT:
        match = pattern.search(text)
        if match:
            word = " ".join(match["n"].lower().split())
            if word.isdigit():
                return int(word)
            return _WORD_NUMBERS.get(word) or _CJK_NUMBERS.get(word)
    return None


def apogee_km(text: str, _entities: Sequence[EntityMention]) -> int | float | None:
    """Highest altitude in km ("rose to an altitude of around 80 kilometres")."""
    return _distance(_APOGEE, text)


def range_km(text: str, _entities: Sequence[EntityMention]) -> int | float | None:
    """Distance flown in km ("flew about 350 kilometres")."""
    return _distance(_RANGE, text)


def flight_time_min(text: str, _entities: Sequence[EntityMention]) -> int | None:
    """Flight time in minutes ("flew for about 40 minutes", "비행시간은 약 5분")."""
    for pattern in _FLIGHT_TIME:
        match = pattern.search(text)
        if match:
            return int(match["v"])
    return None


def launch_site(text: str, _entities: Sequence[EntityMention]) -> str | None:
    """Where the launch came from ("launched from a region in northern Pyongyang")."""
    for pattern in _SITE:
        match = pattern.search(text)
        if match:
            return match["v"].strip()
    return None


def local_time(text: str, _entities: Sequence[EntityMention]) -> str | None:
    """Time of day as HH:MM, 24-hour ("around 3:50 pm (local time)" -> "15:50")."""
    match = _TIME_12.search(text)
    if match:
        hour = int(match["h"]) % 12 + (12 if match["ap"].lower() == "p" else 0)
        return f"{hour:02d}:{int(match['m'] or 0):02d}"
    match = _TIME_CJK.search(text)
    if match:
        afternoon = match["ap"] in ("오후", "午後", "下午", "晚上")
        hour = int(match["h"]) % 12 + (12 if afternoon else 0)
        return f"{hour:02d}:{int(match['m'] or match['m2'] or 0):02d}"
    match = _TIME_24.search(text)
    return f"{int(match['h']):02d}:{match['m']}" if match else None


def impact_area(text: str, _entities: Sequence[EntityMention]) -> str | None:
    """Where it came down ("fell outside Japan's exclusive economic zone")."""
    for pattern in _IMPACT:
        match = pattern.search(text)
        if match:
            return " ".join(match["v"].split())
    return None


def weapon_type(_text: str, entities: Sequence[EntityMention]) -> str | None:
    """Type of the first weapon named (ICBM, SRBM, cruise missile...), from the alias table."""
    return next((m.entity.type for m in entities if m.kind == "weapon" and m.entity.type), None)


BUILTINS: dict[str, Extractor] = {
    "count": count,
    "apogee_km": apogee_km,
    "range_km": range_km,
    "flight_time_min": flight_time_min,
    "launch_site": launch_site,
    "local_time": local_time,
    "impact_area": impact_area,
    "weapon_type": weapon_type,
}
# Facts taken from the event's mentions rather than from sentences: the people taking part and
# the place named nearest the event word.
DERIVED = frozenset({"participants", "location"})


def _regex_values(spec: FactSpec, text: str) -> list[FactValue]:
    values: list[FactValue] = []
    for pattern in spec.patterns:
        for match in pattern.finditer(text):
            if "value" in pattern.groupindex:
                raw = match["value"]
            else:
                raw = match.group(1) if pattern.groups else match.group()
            if raw is None or not raw.strip():
                continue
            raw = " ".join(raw.split()).rstrip(" .,;:")
            if spec.lower:
                raw = raw.lower()
            values.append(_number(raw) if spec.type != "str" and _is_number(raw) else raw)
            if not spec.many:
                return values
    return values


def _is_number(text: str) -> bool:
    return bool(re.fullmatch(r"\d[\d,]*(?:\.\d+)?", text))


def first_match(spec: FactSpec, texts: Sequence[str]) -> FactValue | None:
    """The value of a single-valued regex fact in `texts`: its patterns are in order of
    preference, so the first pattern that matches anywhere wins over a later one."""
    for pattern in spec.patterns:
        single = FactSpec(spec.name, False, (pattern,), False, spec.type, spec.lower)
        for text in texts:
            values = _regex_values(single, text)
            if values:
                return values[0]
    return None


def extract(spec: FactSpec, text: str, entities: Sequence[EntityMention]) -> list[Any]:
    """Values of one fact in one sentence (at most one unless the fact is a list)."""
    if spec.builtin:
        extractor = BUILTINS.get(spec.name)
        value = extractor(text, entities) if extractor else None
        return [] if value is None else [value]
    return _regex_values(spec, text)
