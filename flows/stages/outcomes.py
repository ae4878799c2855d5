"""What the stages' outcomes share: folding what one part of a stage did into the stage's total,
and the stage's one summary line.

An outcome is a dataclass of counts and collections (`StoreOutcome`, `DetectOutcome`,
`SendOutcome`). Folding adds counts, extends lists and arrays, unites sets and adds mappings'
counts key by key, so a field added to an outcome is folded without touching this module. The
summary line shows each count, and each collection by its size, under the field's name or the
one `logged_as` gives it in the field's metadata (None leaves the field out).
"""

from __future__ import annotations

from array import array
from collections.abc import Mapping
from dataclasses import fields
from typing import TYPE_CHECKING, Any, TypeVar

from flows.stages.keyed import log_stage

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

    Outcome = TypeVar("Outcome", bound=DataclassInstance)
else:
    Outcome = TypeVar("Outcome")

_LOGGED_AS = "logged_as"


def logged_as(name: str | None) -> dict[str, str | None]:
    """Field metadata: the key the stage's summary line shows the field under (None: not shown,
    as for ids that only the report reads)."""
    return {_LOGGED_AS: name}


def fold(total: Outcome, part: Outcome) -> None:
    """Add what `part` did to `total`, in place."""
    for spec in fields(total):
        setattr(total, spec.name, _joined(getattr(total, spec.name), getattr(part, spec.name)))


def _joined(total: Any, part: Any) -> Any:
    """One field of two outcomes as one; a collection is extended in place (a run's article ids
    are appended chunk by chunk, never copied)."""
    if isinstance(total, list | array):
        total.extend(part)
    elif isinstance(total, set):
        total |= part
    elif isinstance(total, dict):
        for key, count in part.items():
            total[key] = total.get(key, 0) + count
    else:
        total += part
    return total


def summary(outcome: DataclassInstance) -> dict[str, object]:
    """The fields of an outcome as its stage's summary line shows them."""
    shown: dict[str, object] = {}
    for spec in fields(outcome):
        key = spec.metadata.get(_LOGGED_AS, spec.name)
        if key is not None:
            shown[key] = _counted(getattr(outcome, spec.name))
    return shown


def _counted(value: object) -> object:
    """A count as it is, a collection by its size."""
    if isinstance(value, list | array | set | Mapping):
        return len(value)
    return value


def log_summary(stage: str, outcome: DataclassInstance) -> None:
    """The one summary line of `stage`, from its outcome."""
    log_stage(stage, **summary(outcome))
