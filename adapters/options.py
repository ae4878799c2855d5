"""Typed adapter options: a frozen dataclass of defaults, filled from `SourceSpec.options`.

Each field's annotation fixes its type (bool, int, float, str, tuple[str, ...], or any of these
`| None`); a value of the wrong type or an unknown key is a problem reported with the option's
name, so the sources file can reject it at start rather than at the first fetch. Numbers must be
>= 0, or > 0 for fields declared with `positive()`.
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from collections.abc import Mapping
from typing import Any, TypeVar

_Options = TypeVar("_Options")


def positive(default: float) -> Any:
    """A number field whose value must be greater than zero (a timeout, a size cap)."""
    return dataclasses.field(default=default, metadata={"positive": True})


def internal(default: Any) -> Any:
    """A field Watchfloor itself sets (from the sources file's other keys, or when planning a
    replay): accepted like any option, but not listed to users as one."""
    return dataclasses.field(default=default, metadata={"internal": True})


@dataclasses.dataclass(frozen=True, slots=True)
class OptionInfo:
    """One option a source kind takes, as `watchfloor sources kinds` lists it."""

    name: str
    type: str
    default: Any


def describe_options(cls: type[Any]) -> tuple[OptionInfo, ...]:
    """The options of the options dataclass `cls` that users set, in declaration order."""
    hints = _field_types(cls)  # type: ignore[arg-type]  # mypy sees no class object as Hashable
    return tuple(
        OptionInfo(
            field.name,
            _kind_of_value(*hints[field.name], bool(field.metadata.get("positive"))),
            field.default,
        )
        for field in dataclasses.fields(cls)
        if not field.metadata.get("internal")
    )


def option_problems(cls: type[Any], options: Mapping[str, Any]) -> list[str]:
    """Every problem with `options` for the options dataclass `cls` (empty when valid)."""
    hints = _field_types(cls)  # type: ignore[arg-type]  # mypy sees no class object as Hashable
    positives = {f.name for f in dataclasses.fields(cls) if f.metadata.get("positive")}
    problems = []
    for key, value in options.items():
        if key not in hints:
            problems.append(f"unknown option {key!r} (known: {', '.join(sorted(hints))})")
            continue
        base, optional = hints[key]
        if value is None and optional:
            continue
        if not _matches(value, base):
            problems.append(f"option {key!r} must be {_describe(base)}, not {value!r}")
        elif key in positives and value <= 0:
            problems.append(f"option {key!r} must be greater than 0, not {value!r}")
    return problems


def parse_options(cls: type[_Options], options: Mapping[str, Any]) -> _Options:
    """An instance of `cls` from `options`; raises ValueError listing every problem."""
    if not options:
        defaults: _Options = _defaults(cls)  # type: ignore[arg-type]  # as in _field_types
        return defaults
    problems = option_problems(cls, options)
    if problems:
        raise ValueError("; ".join(problems))
    hints = _field_types(cls)  # type: ignore[arg-type]  # mypy sees no class object as Hashable
    values = {key: _coerce(value, hints[key][0]) for key, value in options.items()}
    return cls(**values)


@functools.cache
def _defaults(cls: type[Any]) -> Any:
    """`cls` with every default, one instance per class: most sources set no option, and every
    fetch parses its source's options (~8 us each, ~1.5% of a 304's CPU). Shared safely: the
    options classes are frozen dataclasses."""
    return cls()


@functools.cache
def _field_types(cls: type[Any]) -> dict[str, tuple[Any, bool]]:
    """field name -> (base type, accepts None). Cached per class: resolving the annotations was
    ~8% of the CPU of fetching an unchanged feed, as every fetch parses its source's options.
    Callers only read the answer."""
    hints = typing.get_type_hints(cls)
    result = {}
    for field in dataclasses.fields(cls):
        hint = hints[field.name]
        args = typing.get_args(hint)
        if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
            non_none = [a for a in args if a is not type(None)]
            result[field.name] = (non_none[0], len(non_none) < len(args))
        else:
            result[field.name] = (hint, False)
    return result


def _matches(value: Any, base: Any) -> bool:
    # bool is an int in Python: refuse `retries: true` and `verbose: 1` explicitly.
    if base is bool:
        return isinstance(value, bool)
    if isinstance(value, bool):
        return False
    if base is int:
        return isinstance(value, int) and value >= 0
    if base is float:
        return isinstance(value, int | float) and value >= 0
    if base is str:
        return isinstance(value, str)
    if typing.get_origin(base) is tuple:
        return isinstance(value, list | tuple) and all(isinstance(v, str) for v in value)
    return False


def _kind_of_value(base: Any, optional: bool, positive: bool) -> str:
    """What an option takes, in words: "a number > 0", "a string or null"."""
    words = _describe(base).replace(">= 0", "> 0") if positive else _describe(base)
    return words + (" or null" if optional else "")


def _describe(base: Any) -> str:
    names = {bool: "true or false", int: "a whole number >= 0", float: "a number >= 0"}
    return names.get(base, "a string" if base is str else "a list of strings")


def _coerce(value: Any, base: Any) -> Any:
    if value is None:
        return None
    if base is float:
        return float(value)
    if typing.get_origin(base) is tuple:
        return tuple(value)
    return value
