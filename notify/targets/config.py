"""Subscribers: Apprise YAML configuration and plain URLs -> validated Targets, returned as one
notify.sending.subscribers.Subscribers that keeps the service Apprise built for each (every send
uses it).

The file is Apprise's own YAML format (https://github.com/caronc/apprise/wiki/config_yaml):
`version: 1`, an optional global `tag:`, and `urls:`, a list whose items are either a URL string
or a mapping from a URL to its options (`tag:`, `to:`, `from:` ...). Each entry is parsed by
Apprise itself, one at a time, so an error is pinned to the entry's line. `include:` (loading
more files, possibly remote), `asset:` (Watchfloor owns the Apprise asset) and `groups:` (tag
aliases for Apprise's notify-time selection, which Watchfloor does not use) are refused.

Credentials come from the environment (`${NAME}`, see notify.targets.envvars).

Every tag is checked where it is written (notify.targets.tags holds the vocabulary): an unknown
kind, a malformed value, and, when the caller says what the loaded rules produce, a category or
region no rule can produce, each fail with its own line and a "did you mean". A tag that comes from
the environment is shown masked.

A Target's `url` is the entry's URL as written (after substitution) when the entry has no
options but tags, else the URL Apprise builds from the entry's options. Its `key` is the SHA-256
of the URL as written, plus the options when there are any (see url_key): stable across runs
and processes, unchanged by editing tags or rotating a credential. `display` is the privacy-safe
form. Error messages never contain a URL, only that form or the bare scheme.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import yaml
from apprise import Apprise, ConfigBase, NotifyBase
from apprise.manager_plugins import NotificationManager

from core.errors import ConfigError, ConfigValidationError
from core.model import Target
from core.yamlpos import YamlMap, YamlSeq, load_yaml
from notify.sending.asset import asset
from notify.sending.capture import capture_apprise_log
from notify.sending.privacy import REGISTRY, display_form, opaque_form, protect, scheme_of, scrub
from notify.sending.subscribers import Subscribers
from notify.sending.terminal import SCHEMA as TERMINAL_SCHEMA
from notify.targets.envvars import expand
from notify.targets.routing import parse_interest
from notify.targets.schedule import parse_schedule
from notify.targets.tags import Produced, TagError, check_tag

_ALLOWED_KEYS = frozenset({"version", "tag", "tags", "urls"})
_REFUSED_KEYS = {
    "include": "`include:` is not supported: list every subscriber in this file",
    "asset": "`asset:` is not supported: Watchfloor sets the Apprise asset itself",
    "groups": "`groups:` is not supported: Watchfloor routes by each subscriber's own tags",
}
_SCHEMA_KEY = re.compile(r"^\s*[a-z0-9]{1,32}://", re.IGNORECASE)

CLI_SOURCE = "--notify"

_TAG_KEYS = ("tag", "tags")
# How Apprise splits a `tag:` string into tags.
_TAG_DELIMITERS = re.compile(r"[\[\];,\s]+")
# A shorter value from the environment is not masked on its own: it would mask letters of the
# message itself (the whole tag it is part of still is).
_MASKED_VALUE_MIN = 4


@dataclass(frozen=True, slots=True)
class _Loaded:
    """One service Apprise built from the configuration, with the URL that stands for it."""

    url: str
    key: str
    plugin: NotifyBase


@dataclass(frozen=True, slots=True)
class _WrittenTag:
    """One tag as the file gives it (after ${NAME} substitution), with its line."""

    text: str
    line: int
    from_environment: bool

    def masked(self, message: str) -> str:
        """`message` without this tag's text when the environment supplied it."""
        if not self.from_environment:
            return scrub(message)
        value = self.text.partition(":")[2]
        hidden = [self.text, *([value] if len(value) >= _MASKED_VALUE_MIN else [])]
        return scrub(message, hidden)


@dataclass(frozen=True, slots=True)
class _Entry:
    """One item of `urls:` with where it came from."""

    line: int
    value: Any


def url_key(url: str, options: Mapping[str, Any] | None = None) -> str:
    """The stable id of a subscriber: SHA-256 (hex) of its URL as written (in a file: before
    ${VARIABLE} substitution), followed by its YAML options (tags excluded, keys sorted) when
    it has any. Editing tags or rotating a credential in the environment keeps the id."""
    material = url
    if options:
        material += "\n" + json.dumps(options, sort_keys=True, default=str)
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


# --- the file ------------------------------------------------------------------------------


def _read(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigError(path, "subscriber config file not found") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(path, f"cannot read subscriber config: {exc.__class__.__name__}") from exc


def _document(path: str, text: str) -> YamlMap:
    """The top-level mapping, its keys checked."""
    data = load_yaml(text, path)
    if not isinstance(data, YamlMap):
        raise ConfigError(
            path, "expected an Apprise YAML config: a mapping with a `urls:` list", line=1
        )
    for key in data:
        if key in _REFUSED_KEYS:
            raise ConfigError(path, _REFUSED_KEYS[key], line=data.line_of(key))
        if key not in _ALLOWED_KEYS:
            raise ConfigError(
                path,
                f"unknown key {key!r} (expected {', '.join(sorted(_ALLOWED_KEYS))})",
                line=data.line_of(key),
            )
    if data.get("version", 1) != 1:
        raise ConfigError(
            path, "only Apprise config `version: 1` exists", line=data.line_of("version")
        )
    return data


def _entries(path: str, data: YamlMap) -> list[_Entry]:
    urls = data.get("urls")
    if urls is None:
        raise ConfigError(path, "no `urls:` list of subscribers", line=data.line)
    if not isinstance(urls, YamlSeq):
        raise ConfigError(path, "`urls:` must be a list", line=data.line_of("urls"))
    return [_Entry(urls.line_of(i), item) for i, item in enumerate(urls)]


def _guard_words(text: str) -> set[str]:
    """Every word of URL-like text but its schema: treated as secret while Apprise parses it.

    Before Apprise has loaded a URL nobody knows which of its parts are secret (a plugin may
    log an invalid token while refusing it), so all of them are masked in its log meanwhile.
    """
    words = set(re.split(r"[\s/:@?&=#,;'\"\[\]{}]+", text))
    words -= {"urls", "version", "tag", "tags", *re.findall(r"([A-Za-z0-9]+)://", text)}
    return {w for w in words if len(w) >= 4}


def _entry_url(path: str, entry: _Entry) -> tuple[str, int]:
    """The URL of an entry and the line it is on."""
    value = entry.value
    if isinstance(value, str):
        return value.strip(), entry.line
    if isinstance(value, YamlMap):
        for key in value:
            if _SCHEMA_KEY.match(key):
                return key.strip(), value.line_of(key)
        raise ConfigError(path, "entry has no URL (a key like `mailto://...`)", line=entry.line)
    raise ConfigError(
        path, "entry must be a URL or a mapping from a URL to its options", line=entry.line
    )


def _option_sets(value: Any, url: str) -> list[dict[str, Any]]:
    """The options an entry gives its URL, tags left out: one set per service it describes.

    Apprise's forms: `- URL`, `- URL: {options}`, `- URL: [{options}, ...]`, and options next
    to the URL key (siblings), which apply to every set.
    """
    if not isinstance(value, dict):
        return [{}]
    siblings = {k: v for k, v in value.items() if k != url}
    nested = value.get(url)
    if isinstance(nested, list):
        items = [item for item in nested if isinstance(item, dict)] or [{}]
    else:
        items = [nested if isinstance(nested, dict) else {}]
    return [{k: v for k, v in {**siblings, **item}.items() if k not in _TAG_KEYS} for item in items]


def _problem(url: str, log: list[str]) -> str:
    """Why Apprise refused `url`, without the URL."""
    scheme = scheme_of(url)
    shown = opaque_form(url)
    if not scheme:
        return f"not an Apprise URL (expected schema://...): {shown}"
    if scheme not in NotificationManager():
        return f"unknown Apprise schema {scheme}:// ({shown})"
    detail = f": {'; '.join(log)}" if log else ""
    return f"Apprise cannot load this {scheme}:// URL ({shown}){detail}"


def _shared(path: str, data: YamlMap) -> dict[str, Any]:
    """The top-level settings every entry is read with (version, global tags), expanded."""
    return {
        key: expand(data[key], path, data.line_of(key))
        for key in ("version", "tag", "tags")
        if key in data
    }


def _plugins_for(path: str, shared: dict[str, Any], entry: _Entry) -> list[_Loaded]:
    """Apprise's own reading of one entry, one _Loaded per service; ConfigError when it fails."""
    written, line = _entry_url(path, entry)
    url = expand(written, path, line)
    value = expand(entry.value, path, entry.line)
    # One entry at a time, so that whatever Apprise refuses is pinned to this entry's line.
    text = yaml.safe_dump({**shared, "urls": [value]}, sort_keys=False, allow_unicode=True)
    with REGISTRY.guarding(_guard_words(text)), capture_apprise_log() as log:
        # Apprise types the services it loaded as list[object]; they are NotifyBase plugins.
        plugins = cast(list[NotifyBase], ConfigBase.config_parse_yaml(text, asset=asset())[0])
    option_sets = _option_sets(value, url)
    if len(plugins) != len(option_sets):
        raise ConfigError(path, _problem(url, log.messages()), line=line)
    # Keys hash the entry as written, ${VARIABLES} unexpanded: rotating a credential in the
    # environment keeps the subscriber's identity (and its delivery history).
    keys = [url_key(written, options) for options in _option_sets(entry.value, written)]
    return [
        # Without options the URL is the subscriber; with options, Apprise's URL of the service
        # it built (whose secrets are those of the options). Sending always uses the plugin.
        _Loaded(url if not options else plugin.url(privacy=False), key, plugin)
        for plugin, options, key in zip(plugins, option_sets, keys, strict=True)
    ]


def _target(loaded: _Loaded, tags: frozenset[str]) -> tuple[Target, NotifyBase]:
    """The Target of a loaded service, with the service; its secrets registered."""
    plugin = loaded.plugin
    privacy = plugin.url(privacy=True)
    # The terminal schema carries no secret; its host word ("terminal") must stay readable.
    if scheme_of(loaded.url) != TERMINAL_SCHEMA:
        protect(loaded.url, privacy)
        protect(plugin.url(privacy=False), privacy)
    return Target(loaded.key, loaded.url, display_form(privacy), tags), plugin


def _check_tag_set(tags: frozenset[str]) -> None:
    """What only the whole set shows (two quiet tags, say) must hold too (ValueError)."""
    parse_interest(tags)
    parse_schedule(tags)


def _tags_under(path: str, holder: YamlMap) -> Iterator[_WrittenTag]:
    """The tags written under the `tag:`/`tags:` keys of one mapping, each with its line."""
    for key in _TAG_KEYS:
        if key not in holder:
            continue
        value = holder[key]
        if isinstance(value, YamlSeq):
            pieces = [(item, value.line_of(i)) for i, item in enumerate(value)]
        else:
            pieces = [(value, holder.line_of(key))]
        for piece, line in pieces:
            written = str(piece)
            expanded = expand(written, path, line)
            for text in filter(None, _TAG_DELIMITERS.split(expanded)):
                yield _WrittenTag(text, line, "${" in written)


def _tag_holders(entry: _Entry, url: str) -> list[YamlMap]:
    """The mappings of an entry that may carry tags: the entry itself and each option set."""
    value = entry.value
    if not isinstance(value, YamlMap):
        return []
    nested = value.get(url)
    sets = nested if isinstance(nested, YamlSeq) else [nested]
    return [value, *(item for item in sets if isinstance(item, YamlMap))]


def _tag_errors(path: str, holders: list[YamlMap], produced: Produced) -> list[ConfigError]:
    """One error per tag that is wrong, at the tag's own line."""
    errors: list[ConfigError] = []
    for holder in holders:
        try:
            written = list(_tags_under(path, holder))
        except ConfigError:
            continue  # an unset ${NAME}: reported once, where the entry is loaded
        for tag in written:
            try:
                check_tag(tag.text, produced)
            except TagError as exc:
                errors.append(ConfigError(path, tag.masked(str(exc)), line=tag.line))
    return errors


def _entry_tag_errors(path: str, entry: _Entry, produced: Produced) -> list[ConfigError]:
    try:
        written_url, _ = _entry_url(path, entry)
    except ConfigError:
        return []  # reported where the entry is loaded
    return _tag_errors(path, _tag_holders(entry, written_url), produced)


def _targets_from_file(path: str, produced: Produced) -> tuple[Subscribers, list[ConfigError]]:
    data = _document(path, _read(path))
    shared = _shared(path, data)
    targets: list[tuple[Target, NotifyBase]] = []
    errors = _tag_errors(path, [data], produced)
    shared_ok = not errors
    for entry in _entries(path, data):
        tag_errors = _entry_tag_errors(path, entry, produced)
        errors += tag_errors
        try:
            for loaded in _plugins_for(path, shared, entry):
                tags = frozenset(str(t) for t in loaded.plugin.tags)
                # A tag already reported at its own line is not reported again for the set.
                if shared_ok and not tag_errors:
                    try:
                        _check_tag_set(tags)
                    except ValueError as exc:
                        raise ConfigError(path, scrub(str(exc)), line=entry.line) from None
                targets.append(_target(loaded, tags))
        except ConfigError as exc:
            errors.append(exc)
    return Subscribers(targets), errors


def _target_from_url(url: str, source: str) -> tuple[Target, NotifyBase]:
    """One untagged Target from a plain Apprise URL (a `--notify` option), with its service."""
    url = url.strip()
    with REGISTRY.guarding(_guard_words(url)), capture_apprise_log() as log:
        plugin = Apprise.instantiate(url, asset=asset())
    if plugin is None:
        raise ConfigError(source, _problem(url, log.messages()))
    return _target(_Loaded(url, url_key(url), plugin), frozenset())


def load_targets(
    config_path: str | None,
    urls: Sequence[str] = (),
    *,
    categories: Collection[str] | None = None,
    regions: Collection[str] | None = None,
) -> Subscribers:
    """Subscribers from an Apprise YAML config file and/or plain URLs, validated, with the
    Apprise services they are sent through.

    Plain URLs (from `--notify`) are untagged: they receive every alert. A URL given both ways
    counts once (the file's entry, with its tags, wins). Raises ConfigError (file, line, reason)
    for one problem, ConfigValidationError listing all of them for several; neither ever shows
    a secret.

    Every tag must be of a known kind with a well-formed value. `categories` (the categories
    of the loaded rules) and `regions` (the regions their tags and entities carry, as `korea`
    or `region:korea`) make a topic or region tag that nothing can produce an error too;
    None leaves that kind unchecked.
    """
    parts: list[Subscribers] = []
    errors: list[ConfigError] = []
    if config_path:
        found, problems = _targets_from_file(str(config_path), Produced.of(categories, regions))
        parts.append(found)
        errors += problems
    given: list[tuple[Target, NotifyBase]] = []
    for number, url in enumerate(urls, start=1):
        try:
            given.append(_target_from_url(url, f"{CLI_SOURCE} URL #{number}"))
        except ConfigError as exc:
            errors.append(exc)
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise ConfigValidationError(errors)
    return Subscribers.joined([*parts, Subscribers(given)])
