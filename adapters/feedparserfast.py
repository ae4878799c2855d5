"""Three places where feedparser 6 spends a feed's parse time on work whose result is already
known, made cheap without changing what it returns. Installed once, when `adapters.feedparse` is
imported; `tests/adapters/test_feedparserfast.py` checks each against feedparser's own path on
arbitrary feeds (Hypothesis).

Measured on the benchmark's 1,000 feeds (10 items, ~3.4 KiB of escaped HTML each):

- **Buffered character data.** expat hands feedparser a separate text event for every entity
  reference, and an escaped HTML summary (`&lt;p&gt;...`) is mostly entity references: ~70
  events per item, each a `FeedParserDict.get` in `handle_data`. With expat's `buffer_text` a
  run of text arrives as one event; feedparser joins the pieces anyway, so the text is the same.
  This is a SAX driver module (`create_parser`) named in `feedparser.api.PREFERRED_XML_PARSERS`,
  which also spares each parse the search for the libxml2 driver nobody has installed.
- **The base URI per start tag.** Given the feed's URL (Content-Location), feedparser re-resolves
  the current base against itself at every start tag (`urljoin`, twice `urlparse`): a pure
  function of two strings, so it is memoised (bounded).
- **Copies of content parameters.** Each title, summary and content is stored with a
  `copy.deepcopy` of the element's parameters (type, language, base): a flat mapping of strings.
  A flat copy of such a mapping is what deepcopy builds, at a tenth of the cost; anything else
  still goes through `copy.deepcopy`.
"""

from __future__ import annotations

import copy
import functools
from typing import Any
from xml.sax import expatreader

import feedparser.api
import feedparser.mixin
import feedparser.urls
from feedparser.util import FeedParserDict

# Immutable leaf types: a deepcopy returns them as they are.
_ATOMIC = frozenset({str, int, float, bool, type(None)})
_URI_MEMO_SIZE = 4096  # distinct (base, base) pairs a process sees: a few per feed


class BufferedExpatParser(expatreader.ExpatParser):
    """xml.sax's expat reader with expat's text buffering on (one event per run of text)."""

    def reset(self) -> None:
        """Create the expat parser as xml.sax does, then turn buffering on."""
        super().reset()
        # `_parser` (the pyexpat parser reset() just made) is private, and not in typeshed.
        self._parser.buffer_text = True  # type: ignore[attr-defined]


def create_parser(*args: Any, **kwargs: Any) -> BufferedExpatParser:
    """The SAX driver entry point `xml.sax.make_parser` calls for this module."""
    return BufferedExpatParser(*args, **kwargs)


def copy_content_params(params: Any) -> Any:
    """`copy.deepcopy(params)`, without its recursion when `params` is a flat FeedParserDict of
    immutable values under keys it stores as they are (no keymap aliasing)."""
    if (
        type(params) is FeedParserDict
        and not params.__dict__
        and all(type(v) in _ATOMIC for v in params.values())
        and not any(k in FeedParserDict.keymap for k in params)
    ):
        return FeedParserDict(params)
    return copy.deepcopy(params)


class _FlatCopy:
    """Stands in for the `copy` module inside `feedparser.mixin` (which only calls deepcopy)."""

    deepcopy = staticmethod(copy_content_params)


memoised_safe_uri = functools.lru_cache(maxsize=_URI_MEMO_SIZE)(
    feedparser.urls.make_safe_absolute_uri
)


def install() -> None:
    """Point feedparser at the buffered driver, the memoised base URI and the flat copy. A
    feedparser whose internals are not those this module was written against (6.0.x) is left
    as it is: slower, never different."""
    if not _internals_as_expected():
        return
    feedparser.api.PREFERRED_XML_PARSERS[:] = [__name__]
    feedparser.mixin.make_safe_absolute_uri = memoised_safe_uri
    feedparser.mixin.copy = _FlatCopy


def _internals_as_expected() -> bool:
    """Whether feedparser's modules hold the names `install` replaces, unreplaced."""
    return (
        getattr(feedparser.mixin, "copy", None) is copy
        and getattr(feedparser.mixin, "make_safe_absolute_uri", None)
        is feedparser.urls.make_safe_absolute_uri
        and isinstance(getattr(feedparser.api, "PREFERRED_XML_PARSERS", None), list)
    )
