"""Choose the character encoding of a feed body before feedparser sees it.

feedparser follows RFC 3023: the HTTP charset wins, and a `text/xml` without one means us-ascii.
Real servers get this wrong both ways: a UTF-8 feed served as ISO-8859-1 (decodes "fine" into
mojibake, since every byte is valid Latin-1), or an EUC-KR / Shift_JIS feed with a wrong or no
declaration. So: a body that is valid UTF-8 is UTF-8; else a declared multi-byte charset that
decodes wins over a declared single-byte one; else a detector decides between CJK and Latin.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterable
from email.message import Message

import charset_normalizer

_XML_DECL_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._:-]+)["']""")
_BOMS = (codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, b"\x00\x00\xfe\xff")
# Python codec names of single-byte charsets: any byte string decodes in them, so a successful
# decode proves nothing.
_SINGLE_BYTE_PREFIXES = ("ascii", "latin", "iso8859", "cp125", "cp4", "cp8", "koi8", "mac", "tis")


def header_charset(content_type: str | None) -> str | None:
    """The `charset` parameter of a Content-Type header, if any."""
    if not content_type:
        return None
    message = Message()
    message["content-type"] = content_type
    charset = message.get_param("charset")
    return charset.strip() if isinstance(charset, str) and charset.strip() else None


def xml_declared_encoding(body: bytes) -> str | None:
    """The `encoding` of the XML declaration at the start of `body`, if any."""
    match = _XML_DECL_ENCODING.match(body[:200])
    return match.group(1).decode("ascii") if match else None


def choose_encoding(body: bytes, content_type: str | None) -> str | None:
    """The encoding to decode `body` with, or None to leave the choice to feedparser (a BOM, pure
    ASCII, or nothing better known)."""
    if not body or body.startswith(_BOMS) or body.isascii():
        return None
    if _decodes(body, "utf-8"):
        return "utf-8"
    declared = _unique(
        _codec_name(c) for c in (header_charset(content_type), xml_declared_encoding(body))
    )
    valid = [c for c in declared if c != "utf-8" and _decodes(body, c)]
    multibyte = [c for c in valid if not _single_byte(c)]
    if multibyte:
        return multibyte[0]
    detected = _detect(body)
    if detected and not _single_byte(detected):
        return detected
    if valid:
        return valid[0]
    return detected


def with_charset(content_type: str | None, encoding: str) -> str:
    """`content_type` with its charset parameter replaced by `encoding` (XML if no type)."""
    message = Message()
    message["content-type"] = content_type or "application/xml"
    message.set_param("charset", encoding)
    return message["content-type"]


def _detect(body: bytes) -> str | None:
    best = charset_normalizer.from_bytes(body).best()
    return _codec_name(best.encoding) if best is not None else None


def _codec_name(name: str | None) -> str | None:
    if not name:
        return None
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def _single_byte(codec: str) -> bool:
    return codec.startswith(_SINGLE_BYTE_PREFIXES)


def _decodes(body: bytes, codec: str) -> bool:
    try:
        body.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return False
    return True


def _unique(names: Iterable[str | None]) -> list[str]:
    seen: list[str] = []
    for name in names:
        if name and name not in seen:
            seen.append(name)
    return seen
