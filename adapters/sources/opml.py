"""OPML, the outline format feed readers import and export: feeds in (`read_opml`) and out
(`write_opml`).

Reading takes OPML 1.0 or 2.0: every `<outline>` in `<body>` with an `xmlUrl` is a feed, named
by its `text` (else `title`). The `text` of the outlines around it (a reader's folders) and its
own `category` attribute (comma-separated; a slash-delimited "/News/Korea" is the tag
"News/Korea") become its tags. The file is outside input: it is parsed by defusedxml's SAX
parser with DTDs refused, so entity expansion ("billion laughs") and external entities (XXE)
cannot happen, and anything malformed is a ConfigError with the file's line.

Writing produces OPML 2.0 with one `<outline type="rss">` per source: `text` and `title` (the
name), `xmlUrl`, and `category` (the tags, comma-separated), escaped by ElementTree.
"""

from __future__ import annotations

import re
import xml.sax
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime
from xml.etree import ElementTree
from xml.sax.handler import ContentHandler
from xml.sax.xmlreader import AttributesImpl, Locator

import defusedxml.sax
from defusedxml import DefusedXmlException

from core.errors import ConfigError
from core.model import SourceSpec

# Characters XML 1.0 cannot carry at all, even escaped: dropped from what is written.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
# Control characters that XML does carry (tab, line breaks, C1 such as the terminal's CSI): read
# as spaces, so no name or tag from a file can move a terminal's cursor when printed.
_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f]")


@dataclass(frozen=True, slots=True)
class OpmlFeed:
    """One feed outline: its name, feed URL, site URL, tags, and its line in the file."""

    title: str
    xml_url: str
    html_url: str | None
    tags: tuple[str, ...]
    line: int


class _NotOpmlError(Exception):
    """The XML is well formed but is not an OPML document."""


@dataclass
class _Outlines(ContentHandler):
    """Collects the feed outlines, with the folders around each."""

    feeds: list[OpmlFeed] = field(default_factory=list)
    elements: list[str] = field(default_factory=list)
    folders: list[str] = field(default_factory=list)  # "" for an outline that is no folder
    locator: Locator | None = None
    body_seen: bool = False
    root_line: int = 1

    def __post_init__(self) -> None:
        super().__init__()

    def setDocumentLocator(self, locator: Locator) -> None:  # noqa: N802 (SAX's name)
        self.locator = locator

    def line(self) -> int:
        """The parser's current line (only while it parses: it is gone afterwards)."""
        number = self.locator.getLineNumber() if self.locator is not None else None
        return number if number is not None else 1

    def startElement(self, name: str, attrs: AttributesImpl) -> None:  # noqa: N802
        if not self.elements and name != "opml":
            raise _NotOpmlError(f"the root element is <{name}>, not <opml>: not an OPML file")
        if not self.elements:
            self.root_line = self.line()
        self.elements.append(name)
        if name == "body" and self.elements[:-1] == ["opml"]:
            self.body_seen = True
        if name != "outline" or "body" not in self.elements:
            return
        # Readers disagree on the case of attribute names (xmlUrl, xmlurl, XMLURL).
        values = {
            key.lower(): " ".join(_CONTROLS.sub(" ", value).split()) for key, value in attrs.items()
        }
        text = values.get("text") or values.get("title") or ""
        if values.get("xmlurl"):
            self.feeds.append(self.feed(text, values))
        self.folders.append("" if values.get("xmlurl") else text)

    def feed(self, text: str, values: Mapping[str, str]) -> OpmlFeed:
        categories = (c.strip().strip("/").strip() for c in values.get("category", "").split(","))
        tags = [*(f for f in self.folders if f), *(c for c in categories if c)]
        return OpmlFeed(
            title=text,
            xml_url=values["xmlurl"],
            html_url=values.get("htmlurl") or None,
            tags=tuple(dict.fromkeys(tags)),
            line=self.line(),
        )

    def endElement(self, name: str) -> None:  # noqa: N802
        self.elements.pop()
        if name == "outline" and "body" in self.elements:
            self.folders.pop()


def read_opml(data: bytes, path: str) -> list[OpmlFeed]:
    """The feed outlines of an OPML document, in file order; ConfigError (path, line, reason)
    when it is not well-formed XML, not OPML, or declares a DTD or entities."""
    handler = _Outlines()
    try:
        defusedxml.sax.parseString(data, handler, forbid_dtd=True)
    except xml.sax.SAXParseException as exc:
        raise ConfigError(
            path, f"not well-formed XML: {exc.getMessage()}", exc.getLineNumber()
        ) from None
    except DefusedXmlException as exc:
        raise ConfigError(
            path,
            f"refused: {type(exc).__name__} (OPML needs no DTD or entities, and they can expand "
            "without bound or read other files)",
            handler.line(),
        ) from None
    except _NotOpmlError as exc:
        raise ConfigError(path, str(exc), handler.line()) from None
    if not handler.body_seen:
        raise ConfigError(path, "no <body> in <opml>: not an OPML file", handler.root_line)
    return handler.feeds


def write_opml(specs: Iterable[SourceSpec], title: str, created: datetime) -> bytes:
    """An OPML 2.0 document of `specs`' feeds (their `location` is the feed URL); tags with a
    comma are left out (see `tags_opml_cannot_carry`)."""
    root = ElementTree.Element("opml", version="2.0")
    head = ElementTree.SubElement(root, "head")
    ElementTree.SubElement(head, "title").text = _xml_text(title)
    ElementTree.SubElement(head, "dateCreated").text = format_datetime(created, usegmt=True)
    body = ElementTree.SubElement(root, "body")
    for spec in specs:
        attributes = {"type": "rss", "text": spec.name, "title": spec.name}
        attributes["xmlUrl"] = spec.location
        categories = [tag for tag in spec.tags if tag not in tags_opml_cannot_carry(spec.tags)]
        if categories:
            attributes["category"] = ",".join(categories)
        ElementTree.SubElement(
            body, "outline", {key: _xml_text(value) for key, value in attributes.items()}
        )
    ElementTree.indent(root)
    # typeshed types tostring as Any for any encoding but "unicode"; a named one gives bytes.
    document: bytes = ElementTree.tostring(root, encoding="UTF-8", xml_declaration=True)
    return document + b"\n"


def tags_opml_cannot_carry(tags: Sequence[str]) -> list[str]:
    """Tags a `category` attribute would split (it is comma-separated)."""
    return [tag for tag in tags if "," in tag]


def _xml_text(value: str) -> str:
    return _NOT_XML.sub("", value)
