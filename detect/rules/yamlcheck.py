"""Helpers to check YAML shapes while collecting every error with its file and line."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from core.errors import ConfigError
from core.yamlpos import YamlMap, YamlSeq, load_yaml


class Problems:
    """The errors of one validation pass, each pinned to a file and a line."""

    def __init__(self) -> None:
        self.errors: list[ConfigError] = []

    def add(self, path: str, reason: str, line: int | None = None) -> None:
        """Record one error."""
        self.errors.append(ConfigError(path, reason, line))


def read_document(problems: Problems, path: str, text: str) -> Any:
    """The YAML document in `text`, None when it is empty; a syntax error is reported and read
    as None, so a caller skips the file and the pass goes on to report every other problem."""
    try:
        return load_yaml(text, path)
    except ConfigError as error:
        problems.errors.append(error)
        return None


def line_of(container: Any, key: str | int) -> int | None:
    """Line of a key or item of a line-aware container, else of the container, else None."""
    if isinstance(container, YamlMap) and isinstance(key, str):
        return container.line_of(key)
    if isinstance(container, YamlSeq) and isinstance(key, int):
        return container.line_of(key)
    return getattr(container, "line", None)


def check_keys(
    problems: Problems, path: str, mapping: YamlMap, allowed: Iterable[str], what: str
) -> None:
    """Report every key of `mapping` that is not in `allowed`."""
    allowed_set = set(allowed)
    for key in mapping:
        if key not in allowed_set:
            choices = ", ".join(sorted(allowed_set))
            problems.add(
                path, f"unknown key {key!r} in {what} (allowed: {choices})", mapping.line_of(key)
            )


def string_list(
    problems: Problems, path: str, parent: Any, key: str, what: str
) -> list[tuple[str, int | None]]:
    """The strings of list `parent[key]` with their lines; a lone string counts as a list of one.
    Anything else is reported."""
    value = parent.get(key) if isinstance(parent, dict) else None
    if value is None:
        return []
    if isinstance(value, str):
        return [(value, line_of(parent, key))]
    if not isinstance(value, list):
        problems.add(path, f"{what} must be a list of strings", line_of(parent, key))
        return []
    items: list[tuple[str, int | None]] = []
    for index, item in enumerate(value):
        if isinstance(item, str | int | float) and not isinstance(item, bool) and str(item).strip():
            items.append((str(item), line_of(value, index)))
        else:
            problems.add(path, f"{what} item must be a non-empty string", line_of(value, index))
    return items


def optional_string(
    problems: Problems, path: str, mapping: YamlMap, key: str, what: str
) -> str | None:
    """`mapping[key]` when it is a non-empty string; None when absent; reported otherwise."""
    value = mapping.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        problems.add(path, f"{what} must be a non-empty string", mapping.line_of(key))
        return None
    return value.strip()
