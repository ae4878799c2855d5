"""Small text helpers every layer agrees on (hashing and whitespace normalisation)."""

from __future__ import annotations

import hashlib
import unicodedata


def normalize_space(text: str) -> str:
    """Collapse runs of whitespace to one space and trim; NFKC so look-alike forms compare equal."""
    return " ".join(unicodedata.normalize("NFKC", text).split())


def content_hash(title: str, text: str) -> str:
    """Stable hash of an article's content, insensitive to whitespace and case differences."""
    canonical = normalize_space(f"{title}\n{text}").casefold()
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
