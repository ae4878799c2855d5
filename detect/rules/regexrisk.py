"""Rule regexes that can backtrack catastrophically, refused when the rules load.

Python's `re` backtracks: a quantified piece that can itself match in many ways makes the time
exponential (or a high power) in the text on a failing match ("(a+)+$", "(?:ab|a)*c",
"(.*,){12}"). Such a regex in a rule would make one article stall detection, so a pattern is
refused when something repeated more than once holds
- an unbounded repeat (nested quantifiers: "(a+)+", "(?:\\s*\\w+)*"), or
- alternatives that can start with the same character ("(?:a|ab)+", "(?:in|i)*").
Possessive repeats ("a++") and atomic groups ("(?>...)") give nothing back, so what they hold is
safe. The test reads the parse tree of Python's own regex parser (`re._parser`, stable across
3.11-3.13 and the only exact reading of Python's syntax); it errs on the side of refusing.
"""

from __future__ import annotations

import re
from re import _constants as const  # type: ignore[attr-defined]
from re import _parser as parser  # type: ignore[attr-defined]
from typing import Any

_REPEATS = (const.MAX_REPEAT, const.MIN_REPEAT)
_ANY_CHAR = object()  # a first-character set that may hold any character


def backtracking_risk(pattern: str, flags: int = 0) -> str | None:
    """Why `pattern` can backtrack catastrophically, or None when it cannot."""
    try:
        tree = parser.parse(pattern, flags)
    except re.error:
        return None  # compiling reports the syntax error itself
    return _risk(list(tree), repeated=False)


def _risk(items: list[tuple[Any, Any]], repeated: bool) -> str | None:
    for op, av in items:
        found = _item_risk(op, av, repeated)
        if found is not None:
            return found
    return None


def _item_risk(op: Any, av: Any, repeated: bool) -> str | None:
    if op in _REPEATS:
        _low, high, body = av
        if repeated and high == const.MAXREPEAT:
            return "nested quantifiers (a repeated part holds an unbounded repeat)"
        return _risk(list(body), repeated=repeated or high > 1)
    if op in (const.POSSESSIVE_REPEAT, const.ATOMIC_GROUP):
        return None  # nothing given back: no backtracking into it
    if op == const.SUBPATTERN:
        return _risk(list(av[-1]), repeated)
    if op == const.BRANCH:
        branches = [list(b) for b in av[1]]
        if repeated and _overlapping_starts(branches):
            return "repeated alternatives that can start alike"
        for branch in branches:
            found = _risk(branch, repeated)
            if found is not None:
                return found
    if op in (const.ASSERT, const.ASSERT_NOT):
        return _risk(list(av[1]), repeated)
    if op == const.GROUPREF_EXISTS:
        for branch in av[1:]:
            if branch is not None:
                found = _risk(list(branch), repeated)
                if found is not None:
                    return found
    return None


def _overlapping_starts(branches: list[list[tuple[Any, Any]]]) -> bool:
    """Whether two alternatives can start alike: literal beginnings that agree as far as the
    shorter goes ("a" and "ab"), or first characters in common where one is not literal."""
    return any(
        _start_alike(branches[i], branches[j])
        for i in range(len(branches))
        for j in range(i + 1, len(branches))
    )


def _start_alike(left: list[tuple[Any, Any]], right: list[tuple[Any, Any]]) -> bool:
    left_text, right_text = _literal_start(left), _literal_start(right)
    if left_text and right_text:
        shorter = min(len(left_text), len(right_text))
        return left_text[:shorter] == right_text[:shorter]
    left_chars, right_chars = _first_chars(left), _first_chars(right)
    if isinstance(left_chars, set) and isinstance(right_chars, set):
        return bool(left_chars & right_chars)
    return True


def _literal_start(items: list[tuple[Any, Any]]) -> str:
    """The literal characters a sequence begins with, lower-cased (case may be ignored)."""
    text = []
    for op, av in items:
        if op != const.LITERAL:
            break
        text.append(chr(av).lower())
    return "".join(text)


def _first_chars(items: list[tuple[Any, Any]]) -> set[int] | object:
    """Code points a sequence can start with, or _ANY_CHAR when that is not simply known (an
    empty branch, a character class with categories or ranges wider than a few letters)."""
    if not items:
        return _ANY_CHAR
    op, av = items[0]
    if op == const.LITERAL:
        return {av, *_other_case(av)}
    if op == const.SUBPATTERN:
        return _first_chars(list(av[-1]) + items[1:])
    if op == const.IN:
        chars: set[int] = set()
        for kind, value in av:
            if kind == const.LITERAL:
                chars |= {value, *_other_case(value)}
            elif kind == const.RANGE and value[1] - value[0] < 64:
                for code in range(value[0], value[1] + 1):
                    chars |= {code, *_other_case(code)}
            else:
                return _ANY_CHAR
        return chars
    return _ANY_CHAR


def _other_case(code: int) -> set[int]:
    char = chr(code)
    return {ord(c) for c in (char.lower(), char.upper()) if len(c) == 1}
