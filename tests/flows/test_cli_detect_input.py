"""`watchfloor detect` on real-world and hostile JSON Lines: the installed command reading real
files, run by the test process's CLI host (tests/clihost.py) as its own process would run it."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from flows.cli.detect import published_datetime
from tests.flows.test_cli import watchfloor_hosted

LAUNCH = (
    "North Korea fired a ballistic missile into the East Sea on Tuesday, "
    "South Korea's Joint Chiefs of Staff said."
)
KST = timezone(timedelta(hours=9))


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("2026-01-27", datetime(2026, 1, 27, tzinfo=UTC)),
        ("2026-01-27T15:50:00", datetime(2026, 1, 27, 15, 50, tzinfo=UTC)),
        ("2026-01-27T15:50:00Z", datetime(2026, 1, 27, 15, 50, tzinfo=UTC)),
        ("2026-01-27T15:50:00+09:00", datetime(2026, 1, 27, 15, 50, tzinfo=KST)),
        ("Tue, 27 Jan 2026 07:12:00 +0900", datetime(2026, 1, 27, 7, 12, tzinfo=KST)),
        ("Tue, 27 Jan 2026 07:12:00 GMT", datetime(2026, 1, 27, 7, 12, tzinfo=UTC)),
        ("Xyz, 27 Jan 2026 07:12:00 +0900", datetime(2026, 1, 27, 7, 12, tzinfo=KST)),
        ("2026-01-27 15:50:00 (KST, corrected)", datetime(2026, 1, 27, 15, 50, tzinfo=UTC)),
        ("  2026-01-27 updated  ", datetime(2026, 1, 27, tzinfo=UTC)),
    ],
)
def test_published_takes_the_forms_real_feeds_carry(given: str, expected: datetime) -> None:
    parsed = published_datetime(given)
    assert parsed == expected
    assert parsed.utcoffset() == expected.utcoffset(), "the publisher's offset is kept"


@pytest.mark.parametrize(
    "given",
    ["9999-12-31", "0001-01-01T00:00:00", "yesterday", "Tue, 27 Jan 2026 07:12:00 +9999", ""],
)
def test_published_refuses_what_is_not_a_plausible_date(given: str) -> None:
    with pytest.raises(ValueError):
        published_datetime(given)


def _published_values(rng: random.Random) -> list[Any]:
    """Every kind of `published` value found in real or hostile input."""
    return [
        None,
        "",
        "2026-01-27",
        "2026-01-27T15:50:00+09:00",
        "2026-01-27T15:50:00",
        "Tue, 27 Jan 2026 07:12:00 +0900",
        "Tue, 27 Jan 2026 07:12:00 GMT",
        "Blursday, 27 Jan 2026 07:12:00 +0900",
        "Tue, 32 Foo 2026 99:99:99 +0900",
        "2026-01-27 15:50:00 (KST, corrected)",
        "9999-12-31T23:59:59",
        "0001-01-01",
        "999999 days ago",
        "\x00\x1b[31m",
        "2026-13-45",
        "x" * 10_000,
        rng.randint(-(10**30), 10**30),
        10**300,
        1.5e308,
        -0.0,
        True,
        [2026, 1, 27],
        {"date": {"nested": ["2026-01-27"]}},
    ]


def _texts(rng: random.Random) -> list[str]:
    return [
        LAUNCH,
        "",
        " ",
        "\x00\x01\x02 control \x7f characters \x1b[2J and \u2028 line \u2029 breaks \x85 too",
        ". . . " * 2_000 + "...." * 10_000,
        "Tests 999999 days ago; launched on Tuesday, 1日, 火曜日に発射.",
        "\ud800 lone surrogate from a \\ud800 escape",
        "".join(chr(rng.randint(0x20, 0xD7FF)) for _ in range(300)),
    ]


# ~100 KB of one sentence full of rule terms: a worst case for matching, so only a few.
HUGE_TEXT = "North Korea fired " + "missile " * 12_500
HUGE_EVERY = 500


def _adversarial_records(count: int) -> list[dict[str, Any]]:
    rng = random.Random(9)
    published = _published_values(rng)
    texts = _texts(rng)
    titles: list[Any] = ["North Korea fires missile", "", None, 42, ["a"], "\x00" * 5]
    records = []
    for index in range(count):
        text = HUGE_TEXT if index % HUGE_EVERY == 1 else texts[index % len(texts)]
        record: dict[str, Any] = {
            "id": rng.choice([f"item-{index}", index, index + 0.5]),
            "text": text,
            "title": titles[index % len(titles)],
        }
        value = published[index % len(published)]
        if value is not None or index % 2:
            record["published"] = value
        records.append(record)
    return records


@pytest.mark.slow
def test_three_thousand_adversarial_inputs_one_line_each(tmp_path: Path) -> None:
    records = _adversarial_records(3_000)
    articles = tmp_path / "hostile.jsonl"
    with articles.open("w", encoding="utf-8") as handle:
        for record in records:
            # ensure_ascii keeps the lone surrogate writable: json reads it back as one.
            handle.write(json.dumps(record) + "\n")
    result = watchfloor_hosted("detect", str(articles), "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    lines = result.stdout.split("\n")
    assert lines[-1] == ""
    outputs = [json.loads(line) for line in lines[:-1]]
    assert len(outputs) == len(records)
    assert [o["id"] for o in outputs] == [r["id"] for r in records]
    # The detector copes with every one of them (an item it failed on would still be one
    # output line with an "error" field and one message naming its line).
    assert [o["id"] for o in outputs if "error" in o] == []
    assert ": detection failed: " not in result.stderr
    # Every non-date `published` is one warning naming its line.
    assert f"{articles}:17: warning: 'published' is a int" in result.stderr
    assert result.stderr.count(f"{articles}:17: warning: 'published'") == 1


def test_bad_lines_are_skipped_with_their_numbers_and_the_rest_processed(tmp_path: Path) -> None:
    articles = tmp_path / "mixed.jsonl"
    lines = [
        json.dumps({"id": "ok-1", "text": LAUNCH, "published": "Tue, 27 Jan 2026 07:12:00 +0900"}),
        "{not json}",
        json.dumps(["a", "list"]),
        json.dumps({"id": "no text"}),
        json.dumps({"id": True, "text": "boolean id"}),
        json.dumps({"id": {"x": 1}, "text": "object id"}),
        json.dumps({"id": "t", "text": 5}),
        "",
        "[" * 100_000,
        "1" * 5_000,
        json.dumps({"id": 2, "text": LAUNCH, "published": 1706339520}),
    ]
    articles.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = watchfloor_hosted("detect", str(articles), "--json", cwd=tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert [json.loads(line)["id"] for line in result.stdout.splitlines()] == ["ok-1", 2]
    for number in (2, 3, 4, 5, 6, 7, 9, 10):
        assert f"{articles}:{number}: skipped" in result.stderr
    assert f"{articles}:8:" not in result.stderr, "a blank line is not an input"
    assert f"{articles}:11: warning: 'published' is a int" in result.stderr
    launch = json.loads(result.stdout.splitlines()[0])["matches"]
    # Tuesday 07:12 in Seoul: "on Tuesday" is that day in the publisher's time, not Monday UTC.
    assert [m["event_date"] for m in launch if m["category"] == "missile_launch"] == ["2026-01-27"]


def test_plain_output_keeps_one_line_per_input(tmp_path: Path) -> None:
    articles = tmp_path / "plain.jsonl"
    records = [
        {"id": "a\nb[/red]", "text": LAUNCH},
        {"id": "c\u2028d", "text": "nothing here"},
    ]
    articles.write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
    result = watchfloor_hosted("detect", str(articles), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.split("\n")
    assert len(lines) == 3 and lines[-1] == ""
    assert lines[0].startswith("a\\x0ab[/red]: ")
    assert lines[1] == "c\\u2028d: -"


def test_a_file_not_in_utf8_is_one_clear_message(tmp_path: Path) -> None:
    korean = tmp_path / "euc-kr.jsonl"
    korean.write_bytes(
        json.dumps({"id": 1, "text": "북한이 탄도미사일을 발사했다"}, ensure_ascii=False).encode(
            "euc-kr"
        )
        + b"\n"
    )
    result = watchfloor_hosted("detect", str(korean), cwd=tmp_path)
    assert result.returncode == 2
    assert f"{korean}:1: not UTF-8 text" in result.stderr
    assert "convert the file to UTF-8" in result.stderr
    assert "Traceback" not in result.stderr

    utf16 = tmp_path / "utf16.jsonl"
    utf16.write_text(json.dumps({"id": 1, "text": "x"}) + "\n", encoding="utf-16")
    result = watchfloor_hosted("detect", str(utf16), cwd=tmp_path)
    assert result.returncode == 2
    assert "UTF-16/UTF-32 byte order mark" in result.stderr


def test_a_missing_or_unreadable_file_exits_2(tmp_path: Path) -> None:
    result = watchfloor_hosted("detect", str(tmp_path / "absent.jsonl"), cwd=tmp_path)
    assert result.returncode == 2
    assert "no such file" in result.stderr
    result = watchfloor_hosted("detect", str(tmp_path), cwd=tmp_path)
    assert result.returncode == 2
    assert "is a folder" in result.stderr
    assert "Traceback" not in result.stderr
