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
    bare = line.strip()
    if not bare:
        return None
    return next((r for r in rules if r.action == action and r.pattern.match(bare)), None)


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
    if lines and _INLINE_SIGN_OFF.search(lines[-1]):
        removed.append("agency sign-off")
        lines[-1] = _INLINE_SIGN_OFF.sub("", lines[-1])
    return lines
