"""Making feed text safe for each message format, and links safe to follow.

Feed text is untrusted: titles and outlet names may hold `<script>`, Markdown syntax or stray
control characters. Templates never see raw feed text in a markup context: the HTML templates
autoescape, the Markdown templates escape every interpolated value (`finalize`), and links are
only ever emitted for http(s) URLs.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any
from urllib.parse import quote, urlsplit

_SPACE = re.compile(r"\s+")

# Characters with inline meaning in CommonMark/GFM, escaped with a backslash.
_MD_INLINE = re.compile(r"([\\`*_\[\]~])")
# HTML-significant characters become entities: markdown renderers pass raw HTML through, and
# Slack's mrkdwn requires exactly these three as entities.
_MD_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_MD_ENTITY = re.compile("[&<>]")
# A value starting like a block construct (heading, list item, setext rule) is defused.
_MD_BLOCK_START = re.compile(r"^([#+\-=])|^(\d+)([.)])")

# Characters left as they are in a linked URL. Parentheses, quotes, angle brackets, brackets and
# backslashes are percent-encoded: they end Markdown link destinations and HTML attributes.
_URL_SAFE = "/:@!$&*+,;=-._~?#%"


def one_line(value: Any) -> str:
    """`value` as one line of printable text: control characters dropped, whitespace collapsed."""
    text = "" if value is None else str(value)
    text = "".join(
        ch if ch in "\t\n\r" or unicodedata.category(ch)[0] != "C" else " " for ch in text
    )
    return _SPACE.sub(" ", text).strip()


class MarkdownSafe(str):
    """Text already fit for Markdown (built by these helpers); not escaped again."""

    __slots__ = ()


def escape_markdown(value: Any) -> MarkdownSafe:
    """Escape one line of text so that Markdown renders it literally."""
    if isinstance(value, MarkdownSafe):
        return value
    text = one_line(value)
    text = _MD_INLINE.sub(r"\\\1", text)
    text = _MD_ENTITY.sub(lambda m: _MD_ENTITIES[m.group(0)], text)
    text = _MD_BLOCK_START.sub(
        lambda m: f"\\{m.group(1)}" if m.group(1) else f"{m.group(2)}\\{m.group(3)}", text
    )
    return MarkdownSafe(text)


def safe_url(value: Any) -> str | None:
    """An http(s) URL, re-encoded so it cannot break out of a link; None for anything else.

    `javascript:`, `data:` and relative URLs are never linked.
    """
    text = one_line(value).replace(" ", "%20")
    if not text:
        return None
    try:
        parts = urlsplit(text)
    except ValueError:
        return None
    if parts.scheme.lower() not in {"http", "https"} or not parts.netloc:
        return None
    return quote(text, safe=_URL_SAFE)


def markdown_url(value: Any) -> MarkdownSafe:
    """A link destination for Markdown (empty when the URL is not linkable)."""
    return MarkdownSafe(safe_url(value) or "")
