"""`watchfloor detect`: pure detection over a JSON Lines file (no database, no Prefect)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import detect
from core.errors import ConfigError
from core.model import DetectionInput, Match
from flows.pipeline import load_ruleset
from flows.report import jsonable


def parse_published(value: Any, path: str, line: int) -> datetime | None:
    """An ISO date or datetime (naive means UTC); None when absent."""
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise ConfigError(path, "'published' must be an ISO date string", line=line)
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        try:
            parsed = datetime.combine(date.fromisoformat(value), datetime.min.time())
        except ValueError:
            raise ConfigError(
                path, f"'published' is not an ISO date: {value!r}", line=line
            ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def read_items(path: Path) -> Iterator[tuple[Any, DetectionInput]]:
    """(id as given, DetectionInput) per JSON Lines record; a bad line is an error with its line."""
    with path.open(encoding="utf-8") as handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            try:
                record = json.loads(raw)
            except json.JSONDecodeError as exc:
                raise ConfigError(str(path), f"invalid JSON: {exc.msg}", line=number) from None
            if not isinstance(record, dict) or "id" not in record or "text" not in record:
                raise ConfigError(
                    str(path), "each line needs an object with 'id' and 'text'", line=number
                )
            published = parse_published(record.get("published"), str(path), number)
            yield (
                record["id"],
                DetectionInput(
                    key=str(record["id"]),
                    title=str(record.get("title") or ""),
                    text=str(record["text"]),
                    reference=published,
                    dated=published is not None,
                ),
            )


def match_json(match: Match) -> dict[str, Any]:
    """One match as `detect --json` prints it."""
    return jsonable(
        {
            "category": match.category,
            "status": match.status,
            "background": match.background,
            "event_date": match.event_date,
            "actors": list(match.actors),
            "facts": dict(match.facts),
            "terms": list(match.terms),
        }
    )


def detect_file(path: Path, rules_dir: Path) -> Iterator[dict[str, Any]]:
    """One `{"id", "matches"}` record per input line."""
    if not path.is_file():
        raise ConfigError(str(path), "no such file")
    ruleset = load_ruleset(rules_dir)
    for given_id, item in read_items(path):
        yield {"id": given_id, "matches": [match_json(m) for m in detect.detect(ruleset, item)]}
