"""Keep Apprise URLs secret: privacy-safe display forms, secret fragments, scrubbing.

An Apprise URL carries credentials anywhere: a password, a bot token in the host, a webhook token
in the path, an API key in a query parameter or a custom header (`+X-Token=...`). Watchfloor only
ever shows `display_form(...)`, and everything else that could echo a URL (exception text, log
records from Apprise, requests and urllib3) goes through `scrub(...)`.

What counts as secret is derived, not listed per service: every token of the raw URL that the
privacy-safe form does not show. Apprise's own privacy URL masks what each plugin declares
private; on top of that the display form drops the query string (custom headers and payload
overrides appear there in clear) and masks long path segments of the generic webhooks
(json://, form://, xml://), whose path often is the token.
"""

from __future__ import annotations

import contextlib
import logging
import re
import threading
from collections.abc import Iterable, Iterator
from urllib.parse import unquote, urlsplit

MASK = "****"

# Generic webhooks: Apprise shows their path in clear, yet webhook tokens usually live there.
_GENERIC_WEBHOOKS = frozenset({"json", "jsons", "form", "forms", "xml", "xmls"})
_MASKED_SEGMENT_MIN = 8

# Shorter fragments would redact ordinary words and numbers everywhere; a secret that short is
# still removed wherever the whole URL appears.
_FRAGMENT_MIN = 4

_TOKEN_SPLIT = re.compile(r"[/:@?&=#,;\s]+")

# Loggers that may echo a URL, a request line or a payload while Apprise sends.
_GUARDED_LOGGERS = (
    "apprise",
    "urllib3.connectionpool",
    "urllib3.connection",
    "urllib3.util.retry",
    "requests",
)


def scheme_of(url: str) -> str:
    """The scheme of `url` (lower case), or "" when it has none."""
    head, sep, _ = url.partition("://")
    return head.strip().lower() if sep and head.strip().isalnum() else ""


def opaque_form(url: str) -> str:
    """The safest form of a URL Apprise could not load: its scheme only."""
    scheme = scheme_of(url)
    return f"{scheme}://{MASK}" if scheme else MASK


def _mask_segment(segment: str) -> str:
    """Apprise's own style for a masked token: first and last character kept."""
    if len(segment) < _MASKED_SEGMENT_MIN:
        return segment
    return f"{segment[0]}...{segment[-1]}"


def display_form(privacy_url: str) -> str:
    """A privacy URL fit to print: no query string, generic-webhook tokens in the path masked.

    `privacy_url` is Apprise's `plugin.url(privacy=True)`.
    """
    base = privacy_url.split("?", 1)[0]
    scheme = scheme_of(base)
    if scheme not in _GENERIC_WEBHOOKS:
        return base
    head, _, rest = base.partition("://")
    authority, slash, path = rest.partition("/")
    masked = "/".join(_mask_segment(seg) for seg in path.split("/"))
    return f"{head}://{authority}{slash}{masked}"


def _tokens(text: str) -> set[str]:
    """Every piece of `text` between URL delimiters, raw and percent-decoded."""
    pieces = set(_TOKEN_SPLIT.split(text))
    pieces |= set(_TOKEN_SPLIT.split(unquote(text)))
    pieces.discard("")
    return pieces


def _query_pairs(url: str) -> list[tuple[str, str]]:
    """The (key, value) pairs of a URL's query string, as written (percent-encoded)."""
    query = urlsplit(url).query if "://" in url else ""
    pairs = []
    for item in query.split("&"):
        key, _, value = item.partition("=")
        if key:
            pairs.append((key, value))
    return pairs


def _is_private_param(key: str) -> bool:
    """`+header`, `-field` and `:payload` parameters: free-form, commonly API keys."""
    return unquote(key)[:1] in ("+", "-", ":")


def _public_tokens(privacy_url: str, display: str) -> set[str]:
    """Tokens a reader of the display form or of Apprise's privacy query may see.

    Values of `+header`, `-field` and `:payload` parameters are never public: Apprise shows
    them in its privacy URL, but they commonly carry API keys.
    """
    public = _tokens(display)
    for key, value in _query_pairs(privacy_url):
        public |= _tokens(key)
        if not _is_private_param(key):
            public |= _tokens(value)
    return public


def secret_fragments(raw_url: str, privacy_url: str | None) -> frozenset[str]:
    """The strings of `raw_url` that must never be shown, given its privacy form.

    With `privacy_url` None (Apprise could not load the URL) everything but the scheme is
    treated as secret.
    """
    raw = raw_url.strip()
    if privacy_url is None:
        public = {scheme_of(raw)}
    else:
        public = _public_tokens(privacy_url, display_form(privacy_url))
    fragments = {
        token
        for token in _tokens(raw.partition("://")[2] or raw)
        if len(token) >= _FRAGMENT_MIN and token not in public
    }
    for key, value in _query_pairs(raw):
        if _is_private_param(key) and len(value) >= _FRAGMENT_MIN:
            fragments |= {value, unquote(value)}
    if fragments or _has_password(raw):
        # The whole URL too: it also hides secrets shorter than _FRAGMENT_MIN.
        fragments |= {raw, unquote(raw)}
    return frozenset(f for f in fragments if f)


def _has_password(url: str) -> bool:
    try:
        return bool(urlsplit(url).password)
    except ValueError:
        return False


def _pattern(fragments: Iterable[str]) -> re.Pattern[str] | None:
    """One regex matching any fragment, longest first so a URL is masked before its parts."""
    ordered = sorted(set(fragments), key=len, reverse=True)
    if not ordered:
        return None
    return re.compile("|".join(re.escape(f) for f in ordered))


def scrub(text: str, fragments: Iterable[str] = ()) -> str:
    """`text` with every known secret (the registry's and `fragments`) replaced by a mask."""
    extra = _pattern(fragments)
    if extra is not None:
        text = extra.sub(MASK, text)
    return REGISTRY.scrub(text)


class SecretRegistry:
    """Process-wide set of secret fragments, plus per-thread temporary ones.

    Targets register their fragments when loaded or first used; code that handles a URL whose
    privacy form is not yet known (while parsing configuration) guards it for the duration.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._fragments: set[str] = set()
        self._compiled: re.Pattern[str] | None = None
        self._local = threading.local()

    def add(self, fragments: Iterable[str]) -> None:
        """Remember `fragments` as secret for the rest of the process."""
        new = set(fragments) - self._fragments
        if not new:
            return
        with self._lock:
            self._fragments |= new
            self._compiled = _pattern(self._fragments)
        install_log_scrubbing()

    @contextlib.contextmanager
    def guarding(self, fragments: Iterable[str]) -> Iterator[None]:
        """Treat `fragments` as secret in this thread while the block runs."""
        install_log_scrubbing()
        stack: list[re.Pattern[str]] = self._local.__dict__.setdefault("stack", [])
        pattern = _pattern(fragments)
        if pattern is not None:
            stack.append(pattern)
        try:
            yield
        finally:
            if pattern is not None:
                stack.remove(pattern)

    def scrub(self, text: str) -> str:
        """`text` with registered and currently guarded fragments masked."""
        for pattern in getattr(self._local, "stack", ()):
            text = pattern.sub(MASK, text)
        compiled = self._compiled
        return compiled.sub(MASK, text) if compiled is not None else text


# Process-wide by nature, unlike the subscribers of a run (notify.sending.subscribers): it feeds a
# logging filter on library loggers (apprise, urllib3, requests), and logging is process-wide. A
# record those libraries emit, in whatever thread, carries no handle on the run that caused it,
# so the secrets to mask must be reachable from the filter alone. It only ever grows: masking a
# secret of an earlier load as well is never wrong.
REGISTRY = SecretRegistry()


class ScrubFilter(logging.Filter):
    """Rewrites a log record so that no registered secret survives in its text."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Scrub message, arguments, exception and stack text; never drops a record."""
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: keep the raw template
            message = str(record.msg)
        clean = REGISTRY.scrub(message)
        if clean != message or record.args:
            record.msg, record.args = clean, None
        if record.exc_info:
            text = logging.Formatter().formatException(record.exc_info)
            record.exc_text, record.exc_info = REGISTRY.scrub(text), None
        elif record.exc_text:
            record.exc_text = REGISTRY.scrub(record.exc_text)
        if record.stack_info:
            record.stack_info = REGISTRY.scrub(record.stack_info)
        return True


_FILTER = ScrubFilter()
_installed = False
_install_lock = threading.Lock()


def install_log_scrubbing() -> None:
    """Attach the scrubbing filter to every logger that may echo a URL (idempotent).

    A filter on the emitting logger runs before any handler, including handlers of parent
    loggers (root, pytest's caplog), so secrets never reach them.
    """
    global _installed
    if _installed:
        return
    with _install_lock:
        if not _installed:
            for name in _GUARDED_LOGGERS:
                logging.getLogger(name).addFilter(_FILTER)
            _installed = True


def protect(raw_url: str, privacy_url: str | None) -> frozenset[str]:
    """Register the secrets of `raw_url` process-wide and return them."""
    fragments = secret_fragments(raw_url, privacy_url)
    REGISTRY.add(fragments)
    return fragments
