"""The real-world corpus manifest (tests/data/realworld): labels that the rules can score, ids and
texts that occur once, and a split that follows its rule, so no item moves between train, dev
and the frozen test split."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

import detect

MANIFEST = Path(__file__).resolve().parents[1] / "data" / "realworld" / "manifest.jsonl"
SHARES = (("train", 50), ("dev", 20), ("test", 30))


@pytest.fixture(scope="module")
def rows() -> list[dict[str, Any]]:
    return [json.loads(line) for line in MANIFEST.read_text(encoding="utf-8").splitlines()]


def unit(row: dict[str, Any]) -> str:
    """What is assigned as a whole: a publication month, or an undated item's host."""
    if row.get("published"):
        return "month:" + row["published"][:7]
    host = urlsplit(row["url"]).hostname or row["outlet"]
    return "host:" + host.removeprefix("www.").removeprefix("m.")


def split_of(key: str) -> str:
    bucket = int(hashlib.sha256(key.encode()).hexdigest(), 16) % 100
    for name, share in SHARES:
        if bucket < share:
            return name
        bucket -= share
    raise AssertionError(bucket)


def test_every_item_is_in_the_split_its_rule_gives(rows: list[dict[str, Any]]) -> None:
    moved = [row["id"] for row in rows if split_of(unit(row)) != row["split"]]
    assert not moved


def test_ids_texts_and_urls_occur_once(rows: list[dict[str, Any]]) -> None:
    for key in ("id", "text_sha256", "url"):
        repeated = [k for k, n in Counter(row[key] for row in rows).items() if n > 1]
        assert not repeated, key


def test_labels_name_categories_the_rules_produce(
    rows: list[dict[str, Any]], ruleset: detect.RuleSet
) -> None:
    categories = {rule.category for rule in ruleset.rules}
    assert {event for row in rows for event in row["events"]} <= categories
    assert all(row["reason"].strip() for row in rows)


def test_the_frozen_split_is_big_enough_to_judge_each_language(
    rows: list[dict[str, Any]],
) -> None:
    test = [row for row in rows if row["split"] == "test"]
    by_language = Counter(row["lang"] for row in test)
    assert set(by_language) == {"en", "ko", "ja", "zh"} and min(by_language.values()) >= 45
    negatives = sum(1 for row in test if not row["events"])
    assert negatives >= 0.3 * len(test)
