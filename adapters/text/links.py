"""Links: canonical article URLs (absolute, no tracking parameters or fragment), and URLs safe
to show in errors (no credentials).

A fast path: most feed items link to an absolute http(s) URL with a lower-case host and no
query, fragment, parameters or credentials, which is already its own canonical form. Parsing
it (urljoin, urlsplit, urlunsplit: ~11 µs, ~0.1 CPU-s of a 10,000-item first poll) only to
rebuild the same string is skipped: `canonical_url` returns such a link as it is when the base
is one urljoin parses without raising (ASCII, no brackets). tests/adapters/test_links_fast.py
checks, with Hypothesis, that it answers as the general path (`parsed_canonical_url`) on any
link and base.
"""

from __future__ import annotations

import re
from urllib.parse import unquote_plus, urljoin, urlsplit, urlunsplit

# Query parameters whose values are credentials: never shown in errors or logs.
SECRET_PARAM = re.compile(
    r"(?:^|_)(?:key|token|secret|sig|signature|password|passwd|auth)$|^apikey$"
)
# Query parameters that identify a campaign or a click, never the article.
TRACKING_PREFIXES = ("utm_",)
TRACKING_PARAMS = frozenset(
    {"fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "mc_cid", "mc_eid", "igshid"}
)


# A link that is its own canonical form: http(s), a lower-case host and maybe a port, a path of
# characters urlsplit keeps as they are and that start no parameters, query or fragment.
_PLAIN_LINK = re.compile(r"https?://[a-z0-9.-]+(?::[0-9]+)?/[A-Za-z0-9._~!$&'()*+,=:@%/-]*")


def canonical_url(link: str | None, base: str | None = None) -> str | None:
    """`link` resolved against `base`, scheme and host lower-cased, tracking parameters and the
    fragment removed. None for an empty link or one that is not http(s) after resolving."""
    if not link or not link.strip():
        return None
    stripped = link.strip()
    if _PLAIN_LINK.fullmatch(stripped) and _parses_as_base(base):
        return stripped  # what parsed_canonical_url would rebuild (module docstring)
    return parsed_canonical_url(stripped, base)


def _parses_as_base(base: str | None) -> bool:
    """True when urljoin parses `base` without raising: urlsplit only raises on a host's
    brackets, or on a non-ASCII host that normalises to a URL delimiter."""
    return not base or (base.isascii() and "[" not in base and "]" not in base)


def parsed_canonical_url(link: str, base: str | None = None) -> str | None:
    """`canonical_url` of a stripped, non-empty `link`, by parsing it: the general path."""
    absolute = urljoin(base or "", link)
    parts = urlsplit(absolute)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    # Filter the raw query pieces rather than re-encoding them, so the kept ones stay byte-equal.
    query = "&".join(p for p in parts.query.split("&") if p and not _is_tracking(p))
    netloc = parts.netloc if "@" in parts.netloc else parts.netloc.lower()
    return urlunsplit((parts.scheme.lower(), netloc, parts.path or "/", query, ""))


def _is_tracking(piece: str) -> bool:
    key = unquote_plus(piece.partition("=")[0]).lower()
    return key in TRACKING_PARAMS or key.startswith(TRACKING_PREFIXES)


def display_url(url: str) -> str:
    """`url` safe to show in errors and logs: a password in it and the values of credential-like
    query parameters (api_key, token, sig, ...) replaced by "***"."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, host = netloc.rpartition("@")
        user = userinfo.split(":", 1)[0]
        netloc = f"{user}:***@{host}" if ":" in userinfo else netloc
    pieces = []
    for piece in parts.query.split("&") if parts.query else ():
        key, eq, _ = piece.partition("=")
        secret = eq and SECRET_PARAM.search(unquote_plus(key).lower())
        pieces.append(f"{key}=***" if secret else piece)
    return urlunsplit((parts.scheme, netloc, parts.path, "&".join(pieces), parts.fragment))
