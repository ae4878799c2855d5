"""Links: canonical article URLs (absolute, no tracking parameters or fragment), and URLs safe
to show in errors (no credentials)."""

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


def canonical_url(link: str | None, base: str | None = None) -> str | None:
    """`link` resolved against `base`, scheme and host lower-cased, tracking parameters and the
    fragment removed. None for an empty link or one that is not http(s) after resolving."""
    if not link or not link.strip():
        return None
    absolute = urljoin(base or "", link.strip())
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
