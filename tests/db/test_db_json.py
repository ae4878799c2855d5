"""JSON columns are written with orjson where it can, and read back as `json` wrote them before
(db/types.py): the same values for any JSON-like input with dates, times and odd objects in it;
`json` itself for what orjson refuses; null instead of a NaN no JSON reader accepts."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from db.types import json_dumps


def as_json_wrote(value: Any) -> str:
    """The column's text before orjson."""
    return json.dumps(value, ensure_ascii=False, default=str)


@dataclass(frozen=True)
class Entry:
    term: str


TEXT = st.text(st.characters(blacklist_categories=("Cs",)))
LEAVES = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | TEXT
    | st.datetimes(timezones=st.just(UTC))
    | st.datetimes()
    | st.dates()
    | st.times()
    | st.builds(Entry, TEXT)
    | st.frozensets(st.integers(0, 9), max_size=3)
)
VALUES = st.recursive(
    LEAVES,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.tuples(inner, inner)
        | st.dictionaries(TEXT, inner, max_size=4)
    ),
    max_leaves=30,
)


@given(VALUES)
def test_any_value_reads_back_as_json_wrote_it(value: Any) -> None:
    assert json.loads(json_dumps(value)) == json.loads(as_json_wrote(value))


def test_dates_times_and_objects_are_written_as_text_as_before() -> None:
    value = {
        "published": datetime(2026, 1, 28, 9, 0, tzinfo=UTC),
        "day": date(2026, 1, 28),
        "at": time(9, 0, 0, 123_000),
        "entry": Entry("launch"),
    }
    assert json.loads(json_dumps(value)) == {
        "published": "2026-01-28 09:00:00+00:00",
        "day": "2026-01-28",
        "at": "09:00:00.123000",
        "entry": "Entry(term='launch')",
    }


def nested(depth: int) -> Any:
    value: Any = "deep"
    for _ in range(depth):
        value = [value]
    return value


def test_what_orjson_refuses_is_written_by_json() -> None:
    refused = [
        {"id": 2**70},  # beyond 64 bits
        {"guid": "\ud800"},  # a lone surrogate
        {1: "a key that is no text"},
        nested(300),  # deeper than orjson goes
    ]
    for value in refused:
        assert json_dumps(value) == as_json_wrote(value)


def test_a_nan_is_null_not_the_bare_nan_json_wrote() -> None:
    assert as_json_wrote({"score": float("nan")}) == '{"score": NaN}'
    assert json.loads(json_dumps({"score": float("nan"), "top": float("inf")})) == {
        "score": None,
        "top": None,
    }
