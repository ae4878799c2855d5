"""The adapter protocol and the registry of source kinds.

A kind is one module in `adapters/sourcekinds/` that decorates its adapter class with
`@register("kind")`. The registry imports that package's modules on first use, so adding a kind
is adding a file there.
"""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, TypeVar, runtime_checkable

from adapters.net.context import FetchContext
from adapters.options import OptionInfo, describe_options, option_problems
from core.errors import WatchfloorError
from core.model import FetchResult, SourceSpec, SourceState


@runtime_checkable
class SourceAdapter(Protocol):
    """Reads one kind of source. A kind declares what the sources file gives it:

    - `location_key`: the key that names a source's location, "url" or "path";
    - `options_type`: the frozen dataclass its `options:` are parsed into (`adapters.options`:
      every field an option with its type and default; `internal()` ones are not listed);
    - `check_options`: every problem with a source's options, checked when the file is read.

    What a kind remembers of a source between fetches is its cursor (`core.cursor.Cursor`, a
    read-only JSON object, like a Singer stream's bookmark): `fetch` gets the stored one in
    `state.cursor` (empty the first time) and returns the new one in `FetchResult.cursor`, or
    None to keep the stored one. The store keeps it in `sources.cursor` without reading it, so
    a new kind's memory needs no migration; only successful fetches move it, and a change of
    a source's kind forgets it. A cursor the kind does not recognise (another kind's, an older
    version's, a corrupt one) must read as empty: a full fetch, never a crash.
    How long the answer stays fresh is not cursor but `FetchResult.fresh_for_s`, the generic
    hint the flows schedule the next poll with.

    `fetch` never raises for source problems: they become
    `FetchResult(status="error", error=..., transient=...)`.
    """

    kind: ClassVar[str]
    location_key: ClassVar[str]
    options_type: ClassVar[type[Any]]

    def __init__(self, context: FetchContext | None = None) -> None:
        """Network kinds share `context`'s clients and host limits; others may ignore it."""

    @staticmethod
    def check_options(options: Mapping[str, Any]) -> list[str]:
        """Every problem with a source's `options` (empty when they are fine)."""
        ...

    def fetch(self, spec: SourceSpec, state: SourceState) -> FetchResult:
        """Read `spec` once, given what the store remembers of it (`state.cursor`)."""
        ...


class BaseAdapter:
    """What kinds share: they keep the fetch context they are made with, and the problems with
    their options are those `options_type` finds (`adapters.options`). A kind that checks more
    overrides `check_options` and adds to these."""

    options_type: ClassVar[type[Any]]

    def __init__(self, context: FetchContext | None = None) -> None:
        self.context = context

    @classmethod
    def check_options(cls, options: Mapping[str, Any]) -> list[str]:
        """Problems with a source's options: unknown keys, wrong types, values out of range."""
        return option_problems(cls.options_type, options)


AdapterClass = type[SourceAdapter]
_Class = TypeVar("_Class", bound=AdapterClass)
LOCATION_KEYS = ("url", "path")

_ADAPTERS: dict[str, AdapterClass] = {}
_discovered = False


@dataclass(frozen=True, slots=True)
class KindInfo:
    """What `watchfloor sources kinds` says of one kind."""

    kind: str
    location_key: str
    summary: str
    options: tuple[OptionInfo, ...]


class UnknownKindError(WatchfloorError, LookupError):
    """No adapter is registered for a source kind."""

    def __init__(self, kind: str, known: tuple[str, ...]) -> None:
        self.kind = kind
        self.known = known
        super().__init__(f"unknown source kind {kind!r} (known: {', '.join(known) or 'none'})")


def register(kind: str) -> Callable[[_Class], _Class]:
    """Class decorator: make `cls` the adapter for sources of `kind`. A class that does not
    declare what `SourceAdapter` asks for is refused here, at import, naming what it lacks."""

    def decorate(cls: _Class) -> _Class:
        if kind in _ADAPTERS and _ADAPTERS[kind] is not cls:
            raise ValueError(f"source kind {kind!r} is already registered")
        _check_declarations(kind, cls)
        _ADAPTERS[kind] = cls
        return cls

    return decorate


def _check_declarations(kind: str, cls: type[Any]) -> None:
    missing = [
        name
        for name in ("location_key", "options_type", "check_options", "fetch")
        if not hasattr(cls, name)
    ]
    if missing:
        raise TypeError(f"source kind {kind!r}: {cls.__name__} lacks {', '.join(missing)}")
    if cls.location_key not in LOCATION_KEYS:
        raise TypeError(
            f"source kind {kind!r}: location_key must be one of {LOCATION_KEYS}, "
            f"not {cls.location_key!r}"
        )
    if not dataclasses.is_dataclass(cls.options_type):
        raise TypeError(f"source kind {kind!r}: options_type must be a dataclass")


def kinds() -> tuple[str, ...]:
    """Every registered source kind, sorted."""
    _discover()
    return tuple(sorted(_ADAPTERS))


def describe_kinds() -> list[KindInfo]:
    """Every registered kind with its location key, the first line of its docstring and the
    options users may set."""
    _discover()
    return [
        KindInfo(
            kind=kind,
            location_key=cls.location_key,
            summary=next(iter((cls.__doc__ or "").strip().splitlines()), ""),
            options=describe_options(cls.options_type),
        )
        for kind, cls in sorted(_ADAPTERS.items())
    ]


def check_options(kind: str, options: Mapping[str, Any]) -> list[str]:
    """Problems with a source's `options` for `kind` (none for an unknown kind: that is
    reported on its own)."""
    _discover()
    cls = _ADAPTERS.get(kind)
    return [] if cls is None else list(cls.check_options(options))


def location_key(kind: str) -> str:
    """Which sources-file key names a source of `kind`: "url" or "path" ("url" for an unknown
    kind, which is reported on its own)."""
    _discover()
    cls = _ADAPTERS.get(kind)
    return "url" if cls is None else cls.location_key


def get_adapter(kind: str, context: FetchContext | None = None) -> SourceAdapter:
    """An adapter for `kind`. With a `context`, network adapters share its client and host limits;
    without one they open a short-lived client per fetch."""
    _discover()
    try:
        cls = _ADAPTERS[kind]
    except KeyError:
        raise UnknownKindError(kind, tuple(sorted(_ADAPTERS))) from None
    return cls(context)


def _discover() -> None:
    """Import every module of `adapters.sourcekinds` once, so each kind's `@register` has run."""
    global _discovered
    if _discovered:
        return
    _discovered = True
    package = importlib.import_module("adapters.sourcekinds")
    for module in pkgutil.iter_modules(package.__path__):
        if not module.name.startswith("_"):
            importlib.import_module(f"adapters.sourcekinds.{module.name}")
