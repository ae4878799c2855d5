"""`${NAME}` in configuration strings, replaced from the environment.

`${NAME}` is the variable's value; `${NAME:-fallback}` gives `fallback` when NAME is unset or
empty; `$${` stands for a literal `${`. An unset variable without fallback is a ConfigError at
the line it is on. Values go in verbatim, so a secret placed inside a URL must be URL-safe
(percent-encode `@ / : ? #` in the variable itself). Substitution happens after YAML parsing,
so a value can never change the structure of the file.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from typing import Any

from core.errors import ConfigError
from core.yamlpos import YamlMap, YamlSeq

_ENV_VAR = re.compile(r"\$(\$)?\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def substitute(text: str, where: Callable[[str], ConfigError]) -> str:
    """`text` with ${NAME} replaced from the environment."""

    def one(match: re.Match[str]) -> str:
        escaped, name, fallback = match.group(1), match.group(2), match.group(3)
        if escaped:
            return match.group(0)[1:]
        value = os.environ.get(name)
        if value is None or (value == "" and fallback is not None):
            if fallback is None:
                raise where(f"environment variable {name} is not set")
            return fallback
        return value

    return _ENV_VAR.sub(one, text)


def expand(value: Any, path: str, line: int) -> Any:
    """A copy of a parsed YAML value with environment variables substituted everywhere.

    Plain dicts and lists are returned (Apprise's parser gets ordinary YAML back).
    """

    def error_at(at: int) -> Callable[[str], ConfigError]:
        return lambda reason: ConfigError(path, reason, line=at)

    if isinstance(value, str):
        return substitute(value, error_at(line))
    if isinstance(value, dict):
        lines = value.line_of if isinstance(value, YamlMap) else (lambda _k: line)
        return {
            substitute(str(k), error_at(lines(k))): expand(v, path, lines(k))
            for k, v in value.items()
        }
    if isinstance(value, list):
        items = value.line_of if isinstance(value, YamlSeq) else (lambda _i: line)
        return [expand(v, path, items(i)) for i, v in enumerate(value)]
    return value
