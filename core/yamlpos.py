"""YAML that remembers where each value came from, so config errors can say file:line.

`load_yaml(text, path)` parses with PyYAML's safe loader and returns plain-looking containers:
`YamlMap` (a dict) and `YamlSeq` (a list) that also know the 1-based line of themselves, of
each key and of each item. Parse errors become `ConfigError` with the line PyYAML reports.
"""

from __future__ import annotations

from typing import Any

import yaml

from core.errors import ConfigError


class YamlMap(dict[str, Any]):
    """A mapping with the line of the mapping itself and of each key."""

    line: int = 0
    key_lines: dict[str, int]

    def line_of(self, key: str) -> int:
        """Line of `key`, or of the mapping when the key is absent."""
        return self.key_lines.get(key, self.line)


class YamlSeq(list[Any]):
    """A sequence with the line of the sequence and of each item."""

    line: int = 0
    item_lines: list[int]

    def line_of(self, index: int) -> int:
        """Line of item `index`, or of the sequence when out of range."""
        return self.item_lines[index] if 0 <= index < len(self.item_lines) else self.line


# libyaml's parser where PyYAML was built with it: the pure-Python one took ~0.5 s for a
# 1,000-source file and about as long for the shipped rules, paid by every command.
_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _LineLoader(_SafeLoader):  # type: ignore[valid-type,misc]
    """Safe loader whose containers record line numbers."""


def _construct_map(loader: _LineLoader, node: yaml.MappingNode) -> YamlMap:
    loader.flatten_mapping(node)
    result = YamlMap()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str):
            key = str(key)
        if key in result:
            raise ConfigError(
                loader.name, f"duplicate key {key!r}", line=key_node.start_mark.line + 1
            )
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = key_node.start_mark.line + 1
    return result


def _construct_seq(loader: _LineLoader, node: yaml.SequenceNode) -> YamlSeq:
    result = YamlSeq(loader.construct_object(child, deep=True) for child in node.value)
    result.line = node.start_mark.line + 1
    result.item_lines = [child.start_mark.line + 1 for child in node.value]
    return result


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_map)
_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_seq)


def load_yaml_documents(text: str, path: str) -> list[Any]:
    """Every document of a YAML stream, with line-aware containers; errors name path and line."""
    loader = _LineLoader(text)
    loader.name = path
    try:
        documents = []
        while loader.check_data():
            documents.append(loader.get_data())
        return documents
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        reason = " ".join(p for p in (exc.context, exc.problem) if p) or "invalid YAML"
        raise ConfigError(path, f"invalid YAML: {reason}", line=line) from exc
    except yaml.YAMLError as exc:
        raise ConfigError(path, f"invalid YAML: {exc}") from exc
    finally:
        loader.dispose()


def load_yaml(text: str, path: str) -> Any:
    """The single document of a YAML text (None when empty); errors name path and line."""
    documents = load_yaml_documents(text, path)
    if len(documents) > 1:
        raise ConfigError(path, "expected one YAML document, found several")
    return documents[0] if documents else None
