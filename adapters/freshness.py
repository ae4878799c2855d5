"""How long a source says its answer stays fresh: HTTP caching headers and a feed's RSS `<ttl>`.

The scheduler (`SourceSpec.poll_interval_after`) stretches a source's interval to honour it,
within the source's configured bound; a hint never makes a source polled more often.

- `Cache-Control: max-age=N` (less the response's `Age`) wins over `Expires`, as RFC 9111
  says; `no-cache` / `no-store` mean "ask again every time" (0 s). `s-maxage` is for shared
  caches and we are a private one.
- `Expires` is read against the response's own `Date` when it has a valid one (the server's
  clock, so a skewed clock on either side does not matter), else against ours. An unreadable
  Expires (for example "0") means already expired, as RFC 9111 says.
- RSS `<ttl>` is minutes. The syndication module's `sy:updatePeriod` is ignored on purpose:
  WordPress writes "hourly" into every feed by default, so it states nothing about the feed.

Everything here reads outside data: it never raises, and anything unreadable is no hint.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

# No source may ask us to wait longer than a year; beyond it a value is garbage, not a hint.
MAX_HINT_S = 366 * 24 * 3600


def header_freshness_s(headers: Mapping[str, str], now: datetime) -> float | None:
    """Seconds the response says it stays fresh (see the module docstring), or None."""
    directives = _cache_directives(headers.get("cache-control") or "")
    if "no-store" in directives or "no-cache" in directives:
        return 0.0
    max_age = _seconds(directives.get("max-age"))
    if max_age is not None:
        return max(0.0, max_age - (_seconds(headers.get("age")) or 0.0))
    expires = headers.get("expires")
    if expires is None:
        return None
    expires_at = _http_date(expires)
    if expires_at is None:
        return 0.0
    reference = _http_date(headers.get("date") or "") or now
    return min(max(0.0, (expires_at - reference).total_seconds()), float(MAX_HINT_S))


def feed_ttl_s(value: object) -> int | None:
    """An RSS `<ttl>` (minutes, as text) in seconds; None when absent or not a sane number."""
    minutes = _seconds(value if isinstance(value, str) else None)
    if minutes is None or minutes <= 0:
        return None
    return int(min(minutes * 60, MAX_HINT_S))


def _cache_directives(value: str) -> dict[str, str | None]:
    """`Cache-Control` as {directive: argument}, names folded to lower case."""
    directives: dict[str, str | None] = {}
    for part in value.split(","):
        name, sep, argument = part.partition("=")
        name = name.strip().lower()
        if name:
            directives.setdefault(name, argument.strip().strip('"') if sep else None)
    return directives


def _seconds(text: str | None) -> float | None:
    """A non-negative whole number of seconds (or minutes) from header text, capped; else None."""
    if text is None:
        return None
    text = text.strip()
    if not text.isascii() or not text.isdigit() or len(text) > 12:
        return None
    return float(min(int(text), MAX_HINT_S))


def _http_date(text: str) -> datetime | None:
    """An HTTP date as an aware datetime, or None when it is not one."""
    try:
        when = parsedate_to_datetime(text.strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)
