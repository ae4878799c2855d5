"""The adapter protocol and the registry of source kinds.

A kind is one module in this package that decorates its adapter class with `@register("kind")`.
The registry imports the package's modules on first use, so adding a kind is adding a file.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Mapping
from typing import Any, Protocol, TypeVar, runtime_checkable

from adapters.context import FetchContext
from core.errors import WatchfloorError
from core.model import FetchResult, SourceSpec, SourceState


@runtime_checkable
class SourceAdapter(Protocol):
    """Reads one source. `fetch` never raises for source problems: they become
    `FetchResult(status="error", error=..., transient=...)`."""

    kind: str

    def fetch(self, spec: SourceSpec, state: SourceState) -> FetchResult:
        """Read `spec` once, given what the store remembers of it (`state`)."""
        ...


AdapterFactory = Callable[[FetchContext | None], SourceAdapter]
_Factory = TypeVar("_Factory", bound=AdapterFactory)

_ADAPTERS: dict[str, AdapterFactory] = {}
_discovered = False


class UnknownKindError(WatchfloorError, LookupError):
    """No adapter is registered for a source kind."""

    def __init__(self, kind: str, known: tuple[str, ...]) -> None:
        self.kind = kind
        self.known = known
        super().__init__(f"unknown source kind {kind!r} (known: {', '.join(known) or 'none'})")


def register(kind: str) -> Callable[[_Factory], _Factory]:
    """Class decorator: make `factory(context)` the adapter for sources of `kind`."""

    def decorate(factory: _Factory) -> _Factory:
        if kind in _ADAPTERS and _ADAPTERS[kind] is not factory:
            raise ValueError(f"source kind {kind!r} is already registered")
        _ADAPTERS[kind] = factory
        return factory

    return decorate


def kinds() -> tuple[str, ...]:
    """Every registered source kind, sorted."""
    _discover()
    return tuple(sorted(_ADAPTERS))


def check_options(kind: str, options: Mapping[str, Any]) -> list[str]:
    """Problems with a source's `options` for `kind`, from the adapter's optional
    `check_options(options) -> list[str]` static method (none when it has no such method)."""
    _discover()
    checker = getattr(_ADAPTERS.get(kind), "check_options", None)
    return list(checker(options)) if callable(checker) else []


def location_key(kind: str) -> str:
    """Which sources-file key names a source of `kind`: "url" (the default) or what the adapter
    declares in its `LOCATION_KEY` attribute (e.g. "path" for local files)."""
    _discover()
    return str(getattr(_ADAPTERS.get(kind), "LOCATION_KEY", "url"))


def get_adapter(kind: str, context: FetchContext | None = None) -> SourceAdapter:
    """An adapter for `kind`. With a `context`, network adapters share its client and host limits;
    without one they open a short-lived client per fetch."""
    _discover()
    try:
        factory = _ADAPTERS[kind]
    except KeyError:
        raise UnknownKindError(kind, tuple(sorted(_ADAPTERS))) from None
    return factory(context)


def _discover() -> None:
    """Import every module of this package once, so each kind's `@register` has run."""
    global _discovered
    if _discovered:
        return
    _discovered = True
    package = importlib.import_module("adapters")
    for module in pkgutil.iter_modules(package.__path__):
        if not module.name.startswith("_"):
            importlib.import_module(f"adapters.{module.name}")
