"""Adding feeds (from an OPML file) to a sources file without rewriting what is there.

The new sources are appended as YAML text right after the last line of the file's `sources:`
list, at its indentation, under a comment naming where they came from: every existing line,
comment and blank line stays byte for byte (PyYAML's node positions say where the list ends;
nothing is re-dumped). A feed whose URL the file already has (compared with scheme and host
lower-cased, as URLs compare) is skipped, as is one whose URL a sources file cannot take. Names
come from the outline's title, made valid (one line) and unique (case-insensitively, as the
sources file requires) by a " (2)", " (3)", ... suffix. The result is validated as a sources
file before it is returned.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import yaml

from adapters.sources.file import load_sources, name_problem, url_problem
from adapters.sources.opml import OpmlFeed
from core.errors import ConfigError
from core.yamlpos import YamlMap, YamlSeq, load_yaml

_MAX_NAME = 200


@dataclass(frozen=True, slots=True)
class NewSource:
    """A source to add: its name, feed URL and tags."""

    name: str
    url: str
    tags: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ImportPlan:
    """What importing feeds into a sources file does, and the file's text afterwards."""

    added: tuple[NewSource, ...]
    present: tuple[OpmlFeed, ...]  # URL already in the file (or earlier in the same import)
    unusable: tuple[tuple[OpmlFeed, str], ...]  # (feed, why its URL cannot be a source)
    text: str


def plan_import(text: str, path: str, feeds: Sequence[OpmlFeed], origin: str) -> ImportPlan:
    """The sources file `text` (at `path`; "" for a new file) with `feeds` appended, under a
    comment naming `origin`. ConfigValidationError if the file is not a valid sources file."""
    document = None if _is_blank(text) else load_yaml(text, path)
    if document is not None:
        load_sources(text, path)  # refuse to add to a file that does not work as it is
    names, urls = _existing(document)
    added: list[NewSource] = []
    present: list[OpmlFeed] = []
    unusable: list[tuple[OpmlFeed, str]] = []
    for feed in feeds:
        problem = url_problem(feed.xml_url)
        if problem:
            unusable.append((feed, problem))
            continue
        key = url_key(feed.xml_url)
        if key in urls:
            present.append(feed)
            continue
        urls.add(key)
        name = unique_name(feed.title or feed.xml_url, names)
        names.add(name.casefold())
        added.append(NewSource(name, feed.xml_url.strip(), feed.tags))
    new_text = _with_sources(text, path, added, origin) if added else text
    load_sources(new_text, path)  # what is written must load; a failure here is a bug
    return ImportPlan(tuple(added), tuple(present), tuple(unusable), new_text)


def url_key(url: str) -> str:
    """`url` as compared for "already present": scheme and host are case-insensitive."""
    parts = urlsplit(url.strip())
    return urlunsplit(
        (parts.scheme.lower(), parts.netloc.lower(), parts.path or "/", parts.query, "")
    )


def unique_name(title: str, taken: set[str]) -> str:
    """`title` as a valid source name not in `taken` (casefolded names)."""
    base = " ".join(title.split())[:_MAX_NAME] or "feed"
    if name_problem(base):
        base = "feed"
    name, number = base, 1
    while name.casefold() in taken:
        number += 1
        name = f"{base} ({number})"
    return name


def _is_blank(text: str) -> bool:
    """No YAML content at all: only blank lines and comments."""
    return all(not line.strip() or line.lstrip().startswith("#") for line in text.splitlines())


def _existing(document: Any) -> tuple[set[str], set[str]]:
    """Casefolded names and URL keys of every source in the file, disabled ones included."""
    names: set[str] = set()
    urls: set[str] = set()
    sources = document.get("sources") if isinstance(document, YamlMap) else None
    for item in sources if isinstance(sources, YamlSeq) else ():
        if isinstance(item, YamlMap):
            if isinstance(item.get("name"), str):
                names.add(item["name"].strip().casefold())
            if isinstance(item.get("url"), str) and not url_problem(item["url"]):
                urls.add(url_key(item["url"]))
    return names, urls


def _with_sources(text: str, path: str, sources: Sequence[NewSource], origin: str) -> str:
    """`text` with `sources` inserted as block items at the end of its `sources:` list."""
    comment = f"# imported from {' '.join(origin.split())}"
    if _is_blank(text):
        separator = "" if not text or text.endswith("\n") else "\n"
        return f"{text}{separator}sources:\n  {comment}\n{_items(sources, 2, 4)}"
    node = _sources_node(text, path)
    if node.flow_style:
        if node.value:
            raise ConfigError(
                path,
                "'sources' is a flow list [...]: write it as a block list (one '- name:' per "
                "line) to import into it",
                node.start_mark.line + 1,
            )
        # "sources: []": the empty list becomes the block of new items; a comment after it
        # stays on the "sources:" line.
        end = text.find("\n", node.end_mark.index)
        end = len(text) if end < 0 else end + 1
        rest_of_line = text[node.end_mark.index : end].strip()
        head = text[: node.start_mark.index].rstrip(" ")
        head += f"  {rest_of_line}" if rest_of_line else ""
        return f"{head}\n  {comment}\n{_items(sources, 2, 4)}{text[end:]}"
    lines = text.splitlines(keepends=True)
    first = node.value[0]
    dash = lines[first.start_mark.line].rfind("-", 0, first.start_mark.column)
    at = _end_of_content(lines, node.value[-1].end_mark.line)
    before = "".join(lines[:at])
    if before and not before.endswith("\n"):
        before += "\n"
    block = f"{' ' * dash}{comment}\n{_items(sources, dash, first.start_mark.column)}"
    return before + block + "".join(lines[at:])


def _sources_node(text: str, path: str) -> yaml.SequenceNode:
    """The node of the file's `sources:` list (the file was validated: it is there)."""
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    for key, value in root.value if isinstance(root, yaml.MappingNode) else ():
        if key.value == "sources" and isinstance(value, yaml.SequenceNode):
            return value
    raise ConfigError(path, "no 'sources:' list to add to")


def _end_of_content(lines: Sequence[str], end_line: int) -> int:
    """Index of the line after the last line of content before `end_line`: blank lines and
    comments between a list's last item and what follows stay after the new items."""
    at = min(end_line, len(lines))
    while at > 0 and (not lines[at - 1].strip() or lines[at - 1].lstrip().startswith("#")):
        at -= 1
    return at


def _items(sources: Sequence[NewSource], dash: int, key: int) -> str:
    """Block-sequence YAML of `sources`: "-" at column `dash`, keys at column `key`."""
    out = []
    for source in sources:
        fields = [f"name: {_scalar(source.name)}", f"url: {_scalar(source.url)}"]
        if source.tags:
            fields.append(f"tags: {_flow(list(source.tags))}")
        out.append(" " * dash + "-" + " " * (key - dash - 1) + fields[0] + "\n")
        out.extend(" " * key + line + "\n" for line in fields[1:])
    return "".join(out)


def _scalar(value: str) -> str:
    """`value` as one YAML scalar on one line, quoted only where a block mapping's value needs
    it (a URL stays plain)."""
    dumped = yaml.safe_dump({"k": value}, allow_unicode=True, width=sys.maxsize)
    return dumped.removeprefix("k: ").rstrip("\n")


def _flow(values: list[str]) -> str:
    dumped = yaml.safe_dump(values, default_flow_style=True, allow_unicode=True, width=sys.maxsize)
    return dumped.strip()
