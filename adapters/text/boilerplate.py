"""Page furniture that is not article text: comment sections, share prompts, reading times,
agency sign-offs. The patterns are data (`BOILERPLATE`); `strip_boilerplate` applies them.

Three kinds of rule, each matching a whole line (case-insensitive, surrounding space ignored):
- `cut_rest`: the line and everything after it go (reader comments, related-story lists);
- `drop_line`: the line goes (share prompts, "2 min read", advertisement labels);
- `trailing`: the line goes only when it is at the end of the text, after earlier trailing
  lines went (agency sign-offs such as "- IANS", "--IANS", "(END)", desk initials "akl/sd").
Everything else stays, including "Key Points:" bullet blocks, which are article text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Action = Literal["cut_rest", "drop_line", "trailing"]

_AGENCIES = r"IANS|PTI|ANI|AFP|AP|Reuters|Yonhap|Kyodo|Jiji|Xinhua|CNA|KCNA|UPI|dpa|Bernama|ANTARA"


@dataclass(frozen=True, slots=True)
class Boilerplate:
    """One rule: a name (reported in raw fields), what to do, and the whole-line pattern."""

    name: str
    action: Action
    pattern: re.Pattern[str]


def _rule(name: str, action: Action, pattern: str) -> Boilerplate:
    return Boilerplate(name, action, re.compile(rf"^(?:{pattern})$", re.IGNORECASE))


BOILERPLATE: tuple[Boilerplate, ...] = (
    _rule("reader comments", "cut_rest", r"reader comments|comments?\s*\(\d+\)|\d+ comments"),
    _rule("comment form", "cut_rest", r"(leave|post|add) a (comment|reply)|join the discussion"),
    _rule(
        "related stories",
        "cut_rest",
        r"(related|recommended|more|latest|top) (articles|stories|news|reads)\s*:?"
        r"|you (may|might) also like\s*:?|most (read|popular|viewed)\s*:?",
    ),
    _rule("share prompt", "drop_line", r"share (this|the) (article|story|post|page)\s*:?"),
    _rule("share buttons", "drop_line", r"share( on| via)?( (facebook|twitter|x|email|line))+"),
    _rule("reading time", "drop_line", r"\d+\s*(min|mins|minute|minutes)\.?\s+read"),
    _rule("advertisement", "drop_line", r"advertisement|sponsored( content)?|ad"),
    _rule("follow prompt", "drop_line", r"follow us on .{1,80}|(click|tap) here to .{1,120}"),
    _rule("newsletter prompt", "drop_line", r"(subscribe|sign up)\b.{0,80}\bnewsletters?\b.{0,60}"),
    _rule("see also", "drop_line", r"(also read|read also|read more|see also)\s*:.{0,200}"),
    _rule("listen prompt", "drop_line", r"listen to (this|the) (article|story).{0,40}"),
    _rule("copyright", "drop_line", r"(copyright|\(c\)|©)\s.{0,150}|all rights reserved\.?"),
    _rule("agency sign-off", "trailing", rf"([-–—=]{{1,2}}|/)\s*({_AGENCIES})\s*/?"),
    _rule("end mark", "trailing", r"\(end\)|-?\s*end\s*-?|#{1,3}"),
    _rule("desk initials", "trailing", r"[a-z]{2,4}(/[a-z]{2,4}){1,3}"),
    _rule("reporting credits", "trailing", r"\((additional )?(reporting|writing|editing) by .+\)"),
)

# A sign-off glued to the end of the last paragraph: "... ties. --IANS".
_INLINE_SIGN_OFF = re.compile(rf"\s*(--|—|==)\s*({_AGENCIES})\s*$", re.IGNORECASE)
# What every inline sign-off holds: a paragraph without any of these is not searched (the
# search tries every position of a paragraph, ~5% of reading a seed file).
_SIGN_OFF_DASHES = ("--", "—", "==")


@dataclass(frozen=True, slots=True)
class Stripped:
    """Text without boilerplate, and the names of the rules that removed something."""

    text: str
    removed: tuple[str, ...]


def strip_boilerplate(text: str, rules: tuple[Boilerplate, ...] = BOILERPLATE) -> Stripped:
    """`text` without the lines `rules` call boilerplate; blank-line runs collapsed to one."""
    removed: list[str] = []
    lines = _cut_rest(text.split("\n"), rules, removed)
    lines = _drop_lines(lines, rules, removed)
    lines = _drop_trailing(lines, rules, removed)
    body = re.sub(r"\n\s*\n+", "\n\n", "\n".join(line.rstrip() for line in lines)).strip()
    return Stripped(body, tuple(dict.fromkeys(removed)))


def _matching(line: str, rules: tuple[Boilerplate, ...], action: Action) -> Boilerplate | None:
    """The first of `rules` with `action` whose pattern matches the line, if any."""
    bare = line.strip()
    if not bare:
        return None
    pattern, chosen = _one_pattern(rules, action)
    found = pattern.match(bare)
    return chosen[int(found.lastgroup[1:])] if found and found.lastgroup else None


OnePattern = tuple[re.Pattern[str], tuple[Boilerplate, ...]]
# (id of a rule tuple, action) -> (that tuple, its one pattern and its rules of that action).
# Keyed by identity: hashing the rules themselves on every line cost more than it saved.
_PATTERNS: dict[tuple[int, str], tuple[tuple[Boilerplate, ...], OnePattern]] = {}


def _one_pattern(rules: tuple[Boilerplate, ...], action: Action) -> OnePattern:
    """`_combine(rules, action)`, made once per rule tuple."""
    cached = _PATTERNS.get((id(rules), action))
    if cached is None or cached[0] is not rules:
        cached = (rules, _combine(rules, action))
        _PATTERNS[(id(rules), action)] = cached
    return cached[1]


def _combine(rules: tuple[Boilerplate, ...], action: Action) -> OnePattern:
    """The patterns of `rules` with `action` as one alternation, each a named group ("r<i>"),
    and those rules. A line is tried once instead of once per rule (stripping 10,000 seed
    files: 0.66 -> 0.45 CPU-s); alternatives are tried in order, so the group that matched is
    the first rule that does, as trying them one by one found it."""
    chosen = tuple(rule for rule in rules if rule.action == action)
    if not chosen:
        return re.compile(r"(?!)"), ()  # matches nothing
    flags = {rule.pattern.flags for rule in chosen}
    if len(flags) > 1:
        raise ValueError(f"boilerplate rules of {action!r} need the same regular expression flags")
    alternatives = (f"(?P<r{i}>{rule.pattern.pattern})" for i, rule in enumerate(chosen))
    return re.compile("|".join(alternatives), flags.pop()), chosen


def _cut_rest(lines: list[str], rules: tuple[Boilerplate, ...], removed: list[str]) -> list[str]:
    for index, line in enumerate(lines):
        rule = _matching(line, rules, "cut_rest")
        if rule:
            removed.append(rule.name)
            return lines[:index]
    return lines


def _drop_lines(lines: list[str], rules: tuple[Boilerplate, ...], removed: list[str]) -> list[str]:
    kept = []
    for line in lines:
        rule = _matching(line, rules, "drop_line")
        if rule:
            removed.append(rule.name)
        else:
            kept.append(line)
    return kept


def _has_sign_off_dash(line: str) -> bool:
    return any(dash in line for dash in _SIGN_OFF_DASHES)


def _drop_trailing(
    lines: list[str], rules: tuple[Boilerplate, ...], removed: list[str]
) -> list[str]:
    lines = list(lines)
    while lines:
        if not lines[-1].strip():
            lines.pop()
            continue
        rule = _matching(lines[-1], rules, "trailing")
        if rule is None:
            break
        removed.append(rule.name)
        lines.pop()
    if lines and _has_sign_off_dash(lines[-1]) and _INLINE_SIGN_OFF.search(lines[-1]):
        removed.append("agency sign-off")
        lines[-1] = _INLINE_SIGN_OFF.sub("", lines[-1])
    return lines
