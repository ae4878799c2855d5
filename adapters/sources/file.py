"""The sources file: which sources to watch, validated with file:line:reason for every error.

    defaults:                 # optional; a source's own value replaces the default
      poll_interval: 10m
      tags: [lang:en]
    sources:
      - name: Yonhap North Korea
        url: https://en.yna.co.kr/RSS/northkorea.xml
        kind: rss             # default rss
        tags: [region:korea, lang:en]
        poll_interval: 5m     # "90s", "10m", "1h30m", "1d" or a number of seconds
        max_poll_interval: 15m  # how far the feed's TTL / caching headers may stretch it
                              # (default: twice poll_interval; equal to it: ignore them)
        headers: {Accept-Language: en}
        timezone: Asia/Seoul  # the publisher's zone, for feed times in UTC or without a zone
        options: {max_bytes: 2000000}   # adapter options, checked by the adapter
        enabled: true
      - name: Seeds
        kind: seedfiles
        path: ../seeds        # a file, a folder or a list; relative to this file's folder

Every problem in the file is collected and raised together as one ConfigValidationError.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from adapters.registry import check_options, kinds, location_key
from core.errors import ConfigError, ConfigValidationError
from core.model import SourceSpec
from core.yamlpos import YamlMap, YamlSeq, load_yaml

TOP_KEYS = frozenset({"sources", "defaults"})
DEFAULT_KEYS = frozenset(
    {"kind", "tags", "poll_interval", "max_poll_interval", "headers", "options", "timezone"}
)
SOURCE_KEYS = frozenset({"name", "url", "path", "enabled"}) | DEFAULT_KEYS
DEFAULT_KIND = "rss"
DEFAULT_POLL_INTERVAL_S = 600
# Polling a publisher more often than once a minute is impolite and rarely useful.
MIN_POLL_INTERVAL_S = 60
_INTERVAL = re.compile(
    r"^\s*(?:(?P<d>\d+)\s*d)?\s*(?:(?P<h>\d+)\s*h)?\s*(?:(?P<m>\d+)\s*m(?:in)?)?"
    r"\s*(?:(?P<s>\d+)\s*s(?:ec)?)?\s*$",
    re.IGNORECASE,
)


def load_sources_file(path: str | Path, regions: Collection[str] | None = None) -> list[SourceSpec]:
    """The enabled sources of the sources file at `path` (see `load_sources`). A missing file,
    a folder, an unreadable file or one that is not UTF-8 is a ConfigValidationError too."""
    text = _read_sources_text(Path(path))
    return load_sources(text, str(path), regions)


def _read_sources_text(path: Path) -> str:
    """The file's text; ConfigValidationError says what is wrong with the file and what to do."""
    try:
        content = path.read_bytes()
    except FileNotFoundError:
        raise _file_error(path, "no such sources file") from None
    except IsADirectoryError:
        raise _file_error(path, "is a folder, not a sources file") from None
    except OSError as exc:
        raise _file_error(path, f"cannot read the sources file: {exc.strerror or exc}") from None
    try:
        return content.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        bad = content[exc.start : exc.start + 1].hex()
        line = content.count(b"\n", 0, exc.start) + 1
        raise ConfigValidationError(
            [
                ConfigError(
                    str(path),
                    f"not UTF-8 (byte 0x{bad} at offset {exc.start}): save it as UTF-8",
                    line,
                )
            ]
        ) from None


def _file_error(path: Path, reason: str) -> ConfigValidationError:
    return ConfigValidationError([ConfigError(str(path), reason)])


def load_sources(text: str, path: str, regions: Collection[str] | None = None) -> list[SourceSpec]:
    """The enabled sources of a sources file's `text`; `path` names it in errors and anchors
    relative `path:` entries. Raises ConfigValidationError listing every problem found.

    With `regions` (the region names the rules know), a `region:<name>` tag must name one of
    them: it adds its region to what the source reports, and a region no subscriber can be
    tagged with would be lost."""
    try:
        document = load_yaml(text, path)
    except ConfigError as exc:
        raise ConfigValidationError([exc]) from exc
    checker = _Checker(path, regions=None if regions is None else frozenset(regions))
    specs = checker.document(document)
    if checker.errors:
        # In file order, so a user can fix them top to bottom.
        raise ConfigValidationError(sorted(checker.errors, key=lambda e: e.line or 0))
    return specs


def parse_interval(value: Any) -> int | None:
    """Seconds in a poll interval: a whole number of seconds, or text such as "90s", "10m",
    "1h30m", "1d". None when unreadable."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if not isinstance(value, str) or not value.strip():
        return None
    if value.strip().isdigit():
        return int(value)
    match = _INTERVAL.match(value)
    if not match or not any(match.groupdict().values()):
        return None
    units = {"d": 86400, "h": 3600, "m": 60, "s": 1}
    return sum(int(match[unit] or 0) * seconds for unit, seconds in units.items())


@dataclass
class _Checker:
    """Walks the document, collecting every error instead of stopping at the first."""

    path: str
    errors: list[ConfigError] = field(default_factory=list)
    defaults: Mapping[str, Any] = field(default_factory=dict)
    regions: frozenset[str] | None = None

    def error(self, line: int | None, reason: str) -> None:
        self.errors.append(ConfigError(self.path, reason, line=line))

    def document(self, document: Any) -> list[SourceSpec]:
        if document is None:
            self.error(1, "the sources file is empty: expected a 'sources:' list")
            return []
        if not isinstance(document, YamlMap):
            self.error(getattr(document, "line", 1), "expected a mapping with a 'sources:' list")
            return []
        self.unknown_keys(document, TOP_KEYS, "top-level key")
        self.defaults = self.default_values(document)
        sources = document.get("sources")
        if not isinstance(sources, YamlSeq):
            self.error(document.line_of("sources"), "'sources' must be a list of sources")
            return []
        return self.sources(sources)

    def default_values(self, document: YamlMap) -> Mapping[str, Any]:
        defaults = document.get("defaults")
        if defaults is None:
            return {}
        if not isinstance(defaults, YamlMap):
            self.error(document.line_of("defaults"), "'defaults' must be a mapping")
            return {}
        self.unknown_keys(defaults, DEFAULT_KEYS, "key in defaults")
        return defaults

    def sources(self, sources: YamlSeq) -> list[SourceSpec]:
        specs = []
        first_line: dict[str, int] = {}
        for index, item in enumerate(sources):
            line = sources.line_of(index)
            if not isinstance(item, YamlMap):
                self.error(line, "each source must be a mapping with at least 'name' and 'url'")
                continue
            name = self.name(item)
            if name is not None:
                folded = name.casefold()
                if folded in first_line:
                    self.error(
                        item.line_of("name"),
                        f"duplicate source name {name!r} (first defined at line "
                        f"{first_line[folded]})",
                    )
                else:
                    first_line[folded] = item.line_of("name")
            spec = self.source(item, name or "")
            if spec is not None and name is not None and self.enabled(item):
                specs.append(spec)
        return specs

    def source(self, item: YamlMap, name: str) -> SourceSpec | None:
        """One source's spec (None when its kind is unknown); errors are recorded."""
        self.unknown_keys(item, SOURCE_KEYS, "key")
        kind = self.kind(item)
        tags = self.tags(item)
        interval = self.interval(item)
        ceiling = self.max_interval(item, interval)
        headers = self.headers(item)
        zone = self.timezone(item)
        options = dict(self.options(item, kind))
        if kind is None:
            return None
        location, extra_paths = self.location(item, kind)
        if extra_paths:
            options["paths"] = extra_paths
        return SourceSpec(
            name=name,
            kind=kind,
            location=location,
            tags=tags,
            poll_interval_s=interval,
            max_poll_interval_s=ceiling,
            headers=headers,
            options=options,
            timezone=zone,
        )

    def value(self, item: YamlMap, key: str) -> tuple[Any, int | None]:
        """A source's value for `key`, else the default's, with the line to blame."""
        if key in item:
            return item[key], item.line_of(key)
        if key in self.defaults:
            return self.defaults[key], _line_of(self.defaults, key)
        return None, item.line

    def unknown_keys(self, mapping: YamlMap, allowed: frozenset[str], what: str) -> None:
        for key in mapping:
            if key not in allowed:
                known = ", ".join(sorted(allowed))
                self.error(mapping.line_of(key), f"unknown {what} {key!r} (known: {known})")

    def name(self, item: YamlMap) -> str | None:
        name = item.get("name")
        if name is None:
            self.error(item.line, "source without a 'name'")
            return None
        problem = name_problem(name)
        if problem:
            self.error(item.line_of("name"), problem)
            return None
        assert isinstance(name, str)  # name_problem refuses anything but text
        return name.strip()

    def kind(self, item: YamlMap) -> str | None:
        kind, line = self.value(item, "kind")
        kind = DEFAULT_KIND if kind is None else kind
        if kind not in kinds():
            self.error(line, f"unknown kind {kind!r} (known: {', '.join(kinds())})")
            return None
        return str(kind)

    def location(self, item: YamlMap, kind: str) -> tuple[str, tuple[str, ...]]:
        """(location, further paths) from `url` or `path`, whichever the kind reads."""
        key = location_key(kind)
        other = "path" if key == "url" else "url"
        if other in item:
            self.error(item.line_of(other), f"a {kind} source takes {key!r}, not {other!r}")
        if key not in item:
            self.error(item.line, f"source without a {key!r}")
            return "", ()
        if key == "url":
            return self.url(item), ()
        paths = self.paths(item)
        return (paths[0], paths[1:]) if paths else ("", ())

    def url(self, item: YamlMap) -> str:
        url, line = item["url"], item.line_of("url")
        problem = url_problem(url)
        if problem:
            self.error(line, problem)
        return url.strip() if isinstance(url, str) else ""

    def paths(self, item: YamlMap) -> tuple[str, ...]:
        raw, line = item["path"], item.line_of("path")
        values = raw if isinstance(raw, list) else [raw]
        if not values or not all(isinstance(v, str) and v.strip() for v in values):
            self.error(line, f"'path' must be a file or folder path, or a list of them: {raw!r}")
            return ()
        base = Path(self.path).parent
        resolved = []
        for value in values:
            target = (base / Path(value.strip()).expanduser()).resolve()
            if not target.exists():
                self.error(line, f"path {value!r} does not exist (looked for {target})")
            resolved.append(str(target))
        return tuple(resolved)

    def tags(self, item: YamlMap) -> tuple[str, ...]:
        tags, line = self.value(item, "tags")
        if tags is None:
            return ()
        if isinstance(tags, str):
            tags = [tags]
        if not isinstance(tags, list) or not all(isinstance(t, str) and t.strip() for t in tags):
            self.error(line, f"'tags' must be a list of words, not {tags!r}")
            return ()
        for tag in tags:
            self.check_region(tag.strip(), line)
        return tuple(dict.fromkeys(t.strip() for t in tags))

    def check_region(self, tag: str, line: int | None) -> None:
        prefix, sep, name = tag.partition(":")
        if self.regions is None or not sep or prefix.casefold() != "region":
            return
        if name.strip().casefold() in self.regions:
            return
        close = difflib.get_close_matches(name.strip().casefold(), list(self.regions), n=1)
        hint = f"did you mean 'region:{close[0]}'?" if close else "no rule or entity carries it"
        self.error(line, f"unknown region in tag {tag!r} ({hint})")

    def duration(
        self, item: YamlMap, key: str, examples: str
    ) -> tuple[int | None, Any, int | None]:
        """The source's `key` in seconds (None when unset, or when not a duration: reported),
        with the value as written and the line to blame."""
        value, line = self.value(item, key)
        if value is None:
            return None, value, line
        seconds = parse_interval(value)
        if seconds is None:
            self.error(line, f"bad {key} {value!r}: use seconds or a duration like {examples}")
        return seconds, value, line

    def interval(self, item: YamlMap) -> int:
        seconds = self.duration_from(
            item,
            "poll_interval",
            "90s, 10m, 1h30m",
            MIN_POLL_INTERVAL_S,
            f"the minimum of {MIN_POLL_INTERVAL_S} s (poll publishers politely)",
        )
        return DEFAULT_POLL_INTERVAL_S if seconds is None else seconds

    def max_interval(self, item: YamlMap, interval: int) -> int | None:
        """The source's `max_poll_interval` (None when unset), never below its interval."""
        seconds = self.duration_from(
            item,
            "max_poll_interval",
            "10m, 1h",
            interval,
            f"the source's poll_interval of {interval} s "
            "(it bounds how far a feed's own TTL may stretch that interval)",
        )
        return None if seconds is None or seconds < interval else seconds

    def duration_from(
        self, item: YamlMap, key: str, examples: str, floor: int, floor_text: str
    ) -> int | None:
        """The source's `key` in seconds, as `duration` reads it; a value below `floor` (named
        by `floor_text`) is reported and returned as it is, for the caller to replace."""
        seconds, value, line = self.duration(item, key, examples)
        if seconds is not None and seconds < floor:
            self.error(line, f"{key} {value!r} is below {floor_text}")
        return seconds

    def headers(self, item: YamlMap) -> dict[str, str]:
        headers, line = self.value(item, "headers")
        if headers is None:
            return {}
        if not isinstance(headers, Mapping) or not all(
            isinstance(v, str | int | float) and not isinstance(v, bool) for v in headers.values()
        ):
            self.error(line, "'headers' must be a mapping of header names to text values")
            return {}
        return {str(k): str(v) for k, v in headers.items()}

    def timezone(self, item: YamlMap) -> str | None:
        """The publisher's IANA time zone name, checked against the machine's zone database."""
        value, line = self.value(item, "timezone")
        if value is None:
            return None
        if isinstance(value, str) and is_time_zone(value.strip()):
            return value.strip()
        suggestion = close_time_zone(str(value))
        hint = f" (did you mean {suggestion!r}?)" if suggestion else ""
        self.error(line, f"unknown timezone {value!r}: use an IANA name like Asia/Tokyo{hint}")
        return None

    def options(self, item: YamlMap, kind: str | None) -> Mapping[str, Any]:
        options, line = self.value(item, "options")
        if options is None:
            return {}
        if not isinstance(options, Mapping):
            self.error(line, "'options' must be a mapping")
            return {}
        if kind is not None:
            for problem in check_options(kind, options):
                self.error(line, f"{kind} source: {problem}")
        return dict(options)

    def enabled(self, item: YamlMap) -> bool:
        enabled = item.get("enabled", True)
        if not isinstance(enabled, bool):
            self.error(item.line_of("enabled"), f"'enabled' must be true or false: {enabled!r}")
            return True
        return enabled


def url_problem(url: Any) -> str | None:
    """Why `url` cannot be a feed source's url, or None when it can."""
    if not isinstance(url, str) or not url.strip() or any(c.isspace() for c in url.strip()):
        return f"'url' must be a URL without spaces, not {url!r}"
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname
    except ValueError as exc:  # an unclosed "[" of an IPv6 address, a bad port
        return f"url {url!r} is not a URL: {exc}"
    if parts.scheme.lower() not in ("http", "https"):
        return f"url {url!r} must start with http:// or https://"
    if not host:
        return f"url {url!r} has no host"
    return None


def name_problem(name: Any) -> str | None:
    """Why `name` cannot be a source's name (uniqueness aside), or None when it can."""
    if not isinstance(name, str) or not name.strip() or "\n" in name:
        return f"'name' must be a one-line text, not {name!r}"
    return None


def _line_of(mapping: Mapping[str, Any], key: str) -> int | None:
    return mapping.line_of(key) if isinstance(mapping, YamlMap) else None


def is_time_zone(name: str) -> bool:
    """Whether `name` is a zone of the IANA database (as zoneinfo finds it here)."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return bool(name)


def close_time_zone(name: str) -> str | None:
    """The known zone name nearest to `name` ("asia/tokyo", "Tokio"), if one is close."""
    zones = {zone.casefold(): zone for zone in available_timezones()}
    if name.casefold() in zones:
        return zones[name.casefold()]
    found = difflib.get_close_matches(name.casefold(), list(zones), n=1, cutoff=0.75)
    return zones[found[0]] if found else None
