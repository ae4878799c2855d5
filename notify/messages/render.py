"""Alerts -> (title, body) in text, Markdown or HTML, within a channel's length limit.

The templates live in notify/templates (`alert.*.j2`, `digest.*.j2`, `test.*.j2`). They receive
a view of the alert built here (plain one-line strings, nothing escaped yet) and escape for their
format: HTML templates autoescape, Markdown templates escape every value through `finalize`, text
templates only lose control characters. Titles are plain text in every format: channels put
them in a subject line or a JSON field, never through a markup parser. Channels without a title
(title_maxlen 0) get it as the first line of the body instead (`title_in_body`).

A folder of the user's templates (`templates`, WATCHFLOOR_TEMPLATES_DIR) overrides the shipped ones
by file name; its files are loaded into the same environments, so they get the same escaping (an
HTML template a user writes is autoescaped too). notify.messages.usertemplates checks such a folder
at start.

A body longer than `max_len` is cut at a line boundary (every template line is a complete
element, so HTML stays well-formed) and ends with a truncation marker linking to the first
piece of evidence.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any, Literal, get_args

import jinja2

from core.model import Alert
from notify.messages.escaping import escape_markdown, markdown_url, one_line, safe_url

Format = Literal["text", "markdown", "html"]
FORMATS: tuple[Format, ...] = get_args(Format)

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"  # notify/templates
_EXTENSION: dict[Format, str] = {"text": "txt", "markdown": "md", "html": "html"}

# Fact keys that belong to "when" and "where" rather than to the list of key facts.
_TIME_KEYS = ("local_time", "time", "event_time")
_ZONE_KEYS = ("timezone", "time_zone", "tz")
_PLACE_KEYS = ("place",)
# Unit suffixes of fact keys, shown after the value ("apogee_km": 80 -> "Apogee: 80 km").
_UNITS = {"_km": "km", "_m": "m", "_kg": "kg", "_kt": "kt"}


# --- the view: what a template may show, as plain one-line strings ------------------------


def category_label(category: str) -> str:
    """`missile_launch` -> `MISSILE LAUNCH`."""
    return one_line(category.replace("_", " ")).upper()


def alert_title(alert: Alert) -> str:
    """`[MISSILE LAUNCH] occurred: North Korea fires...`; a status change shows `planned -> ...`."""
    status: str = alert.status
    if alert.kind == "status_change" and alert.previous_status:
        status = f"{alert.previous_status} -> {alert.status}"
    return f"[{category_label(alert.category)}] {status}: {one_line(alert.title)}"


def _fact_value(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, Mapping):
        return "; ".join(f"{one_line(k)}: {_fact_value(v)}" for k, v in value.items())
    if isinstance(value, list | tuple | set | frozenset):
        return ", ".join(_fact_value(v) for v in value)
    return one_line(value)


def _fact_line(key: str, value: Any) -> tuple[str, str]:
    """(label, value) for one fact, with the unit a key suffix names."""
    unit = ""
    for suffix, name in _UNITS.items():
        if key.endswith(suffix):
            key, unit = key[: -len(suffix)], f" {name}"
            break
    label = one_line(key.replace("_", " ")).capitalize()
    return label, f"{_fact_value(value)}{unit}"


def _first(facts: Mapping[str, Any], keys: Sequence[str]) -> str | None:
    for key in keys:
        if facts.get(key) not in (None, "", [], ()):
            return _fact_value(facts[key])
    return None


def _when(event_date: date | None, facts: Mapping[str, Any]) -> str:
    """Event date, with the time and its zone when the facts know them."""
    clock, zone = _first(facts, _TIME_KEYS), _first(facts, _ZONE_KEYS)
    parts = [event_date.isoformat() if event_date else "date not reported"]
    if clock:
        parts.append(clock)
        parts.append(f"({zone})" if zone else "(local time)")
    elif zone:
        parts.append(f"({zone})")
    return " ".join(parts)


def alert_view(alert: Alert) -> dict[str, Any]:
    """Everything the alert templates show, format-neutral and unescaped."""
    facts = alert.facts or {}
    skipped = set(_TIME_KEYS) | set(_ZONE_KEYS) | set(_PLACE_KEYS)
    outlets = [
        {"source": one_line(e.source), "title": one_line(e.title), "url": safe_url(e.url)}
        for e in alert.evidence
    ]
    sources = list(dict.fromkeys(o["source"] for o in outlets))
    return {
        "title": alert_title(alert),
        "headline": one_line(alert.title),
        "category": category_label(alert.category),
        "kind": alert.kind,
        "status": alert.status,
        "change": (
            f"{alert.previous_status} -> {alert.status}"
            if alert.kind == "status_change" and alert.previous_status
            else None
        ),
        "level": alert.level,
        "when": _when(alert.event_date, facts),
        "where": one_line(alert.place) or _first(facts, _PLACE_KEYS),
        "who": ", ".join(one_line(a) for a in alert.actors) or None,
        "regions": ", ".join(one_line(r) for r in alert.regions) or None,
        "facts": [_fact_line(k, v) for k, v in facts.items() if k not in skipped],
        "outlets": outlets,
        "sources": sources,
        "rule": one_line(alert.rule_id),
        "terms": ", ".join(one_line(t) for t in alert.terms),
        "first_url": next((o["url"] for o in outlets if o["url"]), None),
    }


# --- environments --------------------------------------------------------------------------


def _finalize_text(value: Any) -> str:
    return "" if value is None else one_line(value)


def _finalize_markdown(value: Any) -> str:
    return "" if value is None else escape_markdown(value)


_FINALIZE: dict[Format, Callable[[Any], str] | None] = {
    "text": _finalize_text,
    "markdown": _finalize_markdown,
    "html": None,  # autoescape does it
}


@cache
def environment(fmt: Format, templates: str | None = None) -> jinja2.Environment:
    """The Jinja2 environment of one format (escaping differs per format); a template of the
    `templates` folder, when given, wins over the shipped one of the same name."""
    folders = [templates, str(TEMPLATES)] if templates else [str(TEMPLATES)]
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(folders),
        autoescape=fmt == "html",
        finalize=_FINALIZE[fmt],
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["mdurl"] = markdown_url
    return env


def template_name(name: str, fmt: Format) -> str:
    """The file name of a template: `alert` in `text` is `alert.txt.j2`."""
    return f"{name}.{_EXTENSION[fmt]}.j2"


def _template(name: str, fmt: Format, templates: str | None = None) -> jinja2.Template:
    if fmt not in FORMATS:
        raise ValueError(f"unknown message format {fmt!r} (use one of {FORMATS})")
    return environment(fmt, templates).get_template(template_name(name, fmt))


def _squeeze(body: str) -> str:
    """No trailing spaces, at most one blank line in a row, no blank lines at the ends."""
    lines = [line.rstrip() for line in body.splitlines()]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    while out and not out[-1]:
        out.pop()
    return "\n".join(out)


# --- length limits -------------------------------------------------------------------------


def _marker(fmt: Format, url: str | None, note: str, templates: str | None) -> str:
    return _squeeze(_template("marker", fmt, templates).render(url=url, note=note))


def fit(
    body: str,
    max_len: int | None,
    fmt: Format,
    url: str | None,
    note: str,
    templates: str | None = None,
) -> str:
    """`body` cut at a line boundary to at most `max_len` characters, ending with a marker
    (`note` and a link to `url`) when anything was cut."""
    if max_len is None or len(body) <= max_len:
        return body
    marker = _marker(fmt, url, note, templates)
    if len(marker) > max_len:
        marker = _marker(fmt, None, note, templates)
    if len(marker) > max_len:
        return "…"[:max_len]
    return _keep_lines(body.split("\n"), max_len, marker)


def _keep_lines(lines: Sequence[str], max_len: int, marker: str) -> str:
    budget = max_len - len(marker) - 1  # one newline before the marker
    kept: list[str] = []
    size = 0
    for line in lines:
        need = len(line) + (1 if kept else 0)
        if size + need > budget:
            break
        kept.append(line)
        size += need
    while kept and not kept[-1].strip():
        kept.pop()
    return "\n".join([*kept, marker]) if kept else marker


# --- public --------------------------------------------------------------------------------


def render(
    alert: Alert,
    fmt: Format,
    max_len: int | None = None,
    *,
    title_in_body: bool = False,
    templates: str | None = None,
) -> tuple[str, str]:
    """(title, body) of one alert in `fmt`; the body stays within `max_len` characters.

    With `title_in_body` the title also opens the body (for channels without a title field).
    `templates`: a folder of the user's templates overriding the shipped ones.
    """
    view = alert_view(alert)
    body = _squeeze(_template("alert", fmt, templates).render(a=view, heading=title_in_body))
    first = view["first_url"]
    return view["title"], fit(body, max_len, fmt, first, "message truncated", templates)


def digest_title(alerts: Sequence[Alert]) -> str:
    """`Watchfloor digest: 3 alerts (2 MISSILE LAUNCH, 1 SUMMIT)`."""
    counts: dict[str, int] = {}
    for alert in alerts:
        label = category_label(alert.category)
        counts[label] = counts.get(label, 0) + 1
    detail = ", ".join(f"{n} {label}" for label, n in counts.items())
    noun = "alert" if len(alerts) == 1 else "alerts"
    return f"Watchfloor digest: {len(alerts)} {noun}" + (f" ({detail})" if detail else "")


def render_digest(
    alerts: Sequence[Alert],
    fmt: Format,
    max_len: int | None = None,
    *,
    title_in_body: bool = False,
    templates: str | None = None,
) -> tuple[str, str]:
    """(title, body) summarising several alerts, one short block each, within `max_len`.

    Blocks that do not fit are left out whole and counted in a closing line.
    """
    title = digest_title(alerts)
    module = _template("digest", fmt, templates).make_module(
        {"title": title, "heading": title_in_body}
    )
    views = [alert_view(a) for a in alerts]
    # The template's macros: attributes Jinja2 makes on the module at run time (attr-defined).
    head = _squeeze(str(module.header(len(views))))  # type: ignore[attr-defined]
    blocks = [_squeeze(str(module.item(v))) for v in views]  # type: ignore[attr-defined]
    return title, _fit_blocks(head, blocks, max_len, lambda n: str(module.more(n)))  # type: ignore[attr-defined]


def _fit_blocks(
    head: str, blocks: Sequence[str], max_len: int | None, more: Callable[[int], str]
) -> str:
    """Head and as many whole blocks as fit, then a line counting the blocks left out."""
    full = "\n\n".join([head, *blocks])
    if max_len is None or len(full) <= max_len:
        return full
    for shown in range(len(blocks) - 1, -1, -1):
        tail = _squeeze(more(len(blocks) - shown))
        text = "\n\n".join([head, *blocks[:shown], tail])
        if len(text) <= max_len:
            return text
    # Not even the head and the closing line fit: keep what lines of the head do.
    return _keep_lines(head.split("\n"), max_len, "…") if max_len > 0 else ""


def render_test(
    display: str, fmt: Format, *, title_in_body: bool = False, templates: str | None = None
) -> tuple[str, str]:
    """(title, body) of the `watchfloor alerts test` message."""
    title = "Watchfloor test message"
    body = _template("test", fmt, templates).render(
        title=title, display=display, heading=title_in_body
    )
    return title, _squeeze(body)
