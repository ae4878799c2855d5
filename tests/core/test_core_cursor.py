"""core.cursor: a kind's cursor is a read-only JSON object, refused at once when it holds what
JSON cannot carry, and read back from any stored value without failing."""

from __future__ import annotations

import json
import pickle
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.cursor import Cursor
from core.model import SourceState

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)  # fmt: skip


@given(st.dictionaries(st.text(), JSON_VALUES, max_size=6))
def test_any_json_object_round_trips(value: dict[str, Any]) -> None:
    cursor = Cursor(value)
    assert cursor.to_json() == value
    assert json.loads(json.dumps(cursor.to_json())) == value
    assert Cursor.from_json(json.loads(json.dumps(value))) == cursor


def test_a_cursor_is_read_only_all_the_way_down() -> None:
    source = {"position": {"page": 2}, "seen": ["a"]}
    cursor = Cursor(source)
    source["position"]["page"] = 3  # the caller's dict is copied, not shared
    assert cursor["position"]["page"] == 2
    with pytest.raises(TypeError):
        cursor["position"]["page"] = 4  # type: ignore[index]
    with pytest.raises(TypeError):
        cursor["seen"][0] = "b"  # arrays are tuples
    assert not hasattr(cursor, "__setitem__") and not hasattr(cursor, "__dict__")


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ({"at": datetime(2026, 1, 28, tzinfo=UTC)}, "JSON values, not datetime"),
        ({"n": float("nan")}, "finite numbers"),
        ({"n": [float("inf")]}, "finite numbers"),
        ({"tags": {"a", "b"}}, "JSON values, not set"),
        ({"nested": {1: "x"}}, "keys must be strings"),
    ],
)
def test_what_json_cannot_carry_is_refused_where_the_cursor_is_built(
    value: dict[str, Any], says: str
) -> None:
    with pytest.raises(TypeError, match=says):
        Cursor(value)


@pytest.mark.parametrize("stored", [None, [1, 2], "text", 3, True])
def test_a_stored_value_that_is_no_object_reads_as_the_empty_cursor(stored: object) -> None:
    assert Cursor.from_json(stored) == Cursor() == {}


def test_a_cursor_compares_hashes_and_pickles_by_content() -> None:
    """States cross process boundaries and are compared by value."""
    cursor = Cursor({"etag": '"v1"', "seen": [1, {"a": None}]})
    assert cursor == Cursor({"seen": [1, {"a": None}], "etag": '"v1"'})
    assert hash(cursor) == hash(Cursor({"seen": [1, {"a": None}], "etag": '"v1"'}))
    assert pickle.loads(pickle.dumps(SourceState(cursor))) == SourceState(cursor)
    assert repr(cursor) == "Cursor({'etag': '\"v1\"', 'seen': [1, {'a': None}]})"
