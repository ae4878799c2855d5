"""Atom 1.0 feeds of developments, built with xml.etree (never by joining strings of markup)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from datetime import UTC, datetime

from core.model import DevelopmentView

ATOM_NS = "http://www.w3.org/2005/Atom"
ATOM_TYPE = "application/atom+xml"


def _child(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM_NS}}}{tag}", attrs)
    if text is not None:
        element.text = text
    return element


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def entry_id(development_id: int) -> str:
    """A development's entry id: the same in every filtered feed, whatever address the reader
    used to reach the console (the page's URL would change with the Host header)."""
    return f"urn:watchfloor:development:{development_id}"


def page_url(base_url: str, development_id: int) -> str:
    """The development's page, the entry's link."""
    return f"{base_url}/developments/{development_id}"


def summary_of(view: DevelopmentView) -> str:
    """One line of facts: status, date, place, actors and regions."""
    parts = [view.status + (" (background)" if view.background else "")]
    if view.event_date:
        parts.append(view.event_date.isoformat())
    if view.place:
        parts.append(view.place)
    if view.actors:
        parts.append(", ".join(view.actors))
    if view.regions:
        parts.append("regions: " + ", ".join(view.regions))
    parts.append(f"{len(view.evidence)} reports")
    return " · ".join(parts)


def developments_feed(
    views: Sequence[DevelopmentView], *, base_url: str, self_url: str, title: str
) -> bytes:
    """The Atom document for `views`; its id is the filtered feed's own address."""
    ET.register_namespace("", ATOM_NS)
    feed = ET.Element(f"{{{ATOM_NS}}}feed")
    _child(feed, "id", self_url)
    _child(feed, "title", title)
    latest = max((v.last_seen for v in views), default=datetime(1970, 1, 1, tzinfo=UTC))
    _child(feed, "updated", _stamp(latest))
    _child(feed, "link", rel="self", type=ATOM_TYPE, href=self_url)
    _child(feed, "link", rel="alternate", type="text/html", href=base_url + "/")
    author = _child(feed, "author")
    _child(author, "name", "Watchfloor")
    for view in views:
        entry = _child(feed, "entry")
        _child(entry, "id", entry_id(view.id))
        _child(entry, "title", f"[{view.category}] {view.title}")
        _child(entry, "link", rel="alternate", type="text/html", href=page_url(base_url, view.id))
        _child(entry, "updated", _stamp(view.last_seen))
        _child(entry, "published", _stamp(view.first_seen))
        _child(entry, "category", term=view.category)
        _child(entry, "summary", summary_of(view))
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)
