"""Three places where feedparser 6 spends a feed's parse time on work whose result is already
known, made cheap without changing what it returns. Installed once, when `adapters.feeds.parse` is
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
- **Look-ups in FeedParserDict.** Every read of a parsed element (`get`, `in`, `[]`) goes
  through FeedParserDict's Python methods, which try a dozen special and aliased keys before
  reading the dict, and answer a missing key by raising and catching KeyError: feedparser's
  own parsing asks ~100 of them per item, most for keys that are neither (`get` of a missing
  key, ~1 us). A key of neither kind is read from the dict straight away, exactly as those
  methods end up reading it; the others still take FeedParserDict's own way.
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

# The aliases of feedparser 6.0 (FeedParserDict.keymap): with others, its methods may read
# keys in ways the plain look-ups do not know, so they are left in place.
_KNOWN_ALIASES = frozenset(
    {
        "channel", "items", "guid", "date", "date_parsed", "description", "description_detail",
        "url", "modified", "modified_parsed", "issued", "issued_parsed", "copyright",
        "copyright_detail", "tagline", "tagline_detail",
    }
)  # fmt: skip
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


# FeedParserDict's own methods, which `install` replaces by the plain look-ups below.
_DICT_METHODS = ("__getitem__", "__contains__", "get", "__setitem__")
_OWN = {name: FeedParserDict.__dict__.get(name) for name in _DICT_METHODS}
# Keys that FeedParserDict reads as other keys (aliases) or computes (from tags, links, or
# `published` standing in for `updated`): the plain look-ups hand them to its own methods.
_ALIASED = frozenset(FeedParserDict.keymap)
_COMPUTED = frozenset({"category", "enclosures", "license", "updated", "updated_parsed"})
_NOT_PLAIN = _ALIASED | _COMPUTED


def plain_getitem(self: FeedParserDict, key: Any) -> Any:
    """`FeedParserDict.__getitem__`: a plain key is the dict's own item."""
    if type(key) is str and key not in _NOT_PLAIN:
        return dict.__getitem__(self, key)
    return _OWN["__getitem__"](self, key)


def plain_contains(self: FeedParserDict, key: Any) -> bool:
    """`FeedParserDict.__contains__`: a plain key is in it when the dict holds it."""
    if type(key) is str and key not in _NOT_PLAIN:
        return dict.__contains__(self, key)
    return bool(_OWN["__contains__"](self, key))


def plain_get(self: FeedParserDict, key: Any, default: Any = None) -> Any:
    """`FeedParserDict.get`: a plain key's item, or `default`, without raising KeyError."""
    if type(key) is str and key not in _NOT_PLAIN:
        return dict.get(self, key, default)
    return _OWN["get"](self, key, default)


def plain_setitem(self: FeedParserDict, key: Any, value: Any) -> None:
    """`FeedParserDict.__setitem__`: a key that is no alias is stored as it is."""
    if type(key) is str and key not in _ALIASED:
        dict.__setitem__(self, key, value)
    else:
        _OWN["__setitem__"](self, key, value)


_PLAIN = {
    "__getitem__": plain_getitem,
    "__contains__": plain_contains,
    "get": plain_get,
    "__setitem__": plain_setitem,
}


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
    for name, method in _PLAIN.items():
        setattr(FeedParserDict, name, method)


def _internals_as_expected() -> bool:
    """Whether feedparser's modules hold the names `install` replaces, unreplaced."""
    return (
        getattr(feedparser.mixin, "copy", None) is copy
        and getattr(feedparser.mixin, "make_safe_absolute_uri", None)
        is feedparser.urls.make_safe_absolute_uri
        and isinstance(getattr(feedparser.api, "PREFERRED_XML_PARSERS", None), list)
        and all(
            getattr(method, "__module__", None) == "feedparser.util" for method in _OWN.values()
        )
        and _ALIASED == _KNOWN_ALIASES
    )
