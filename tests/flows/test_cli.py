"""The `watchfloor` command as a user runs it: a real process, real Prefect ephemeral API."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.clikit import run_watchfloor, run_watchfloor_or_host
from tests.conftest import DEVELOPMENT_KEYS, RULES, SEEDS
from tests.secret_audit import record_output


def watchfloor(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the installed CLI in `cwd` with a private Prefect home; its output goes to the audit."""
    result = run_watchfloor(*args, cwd=cwd, env=env)
    record_output(f"watchfloor {' '.join(args)}", result.stdout + result.stderr)
    return result


def watchfloor_hosted(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`watchfloor` as above, run by this test process's CLI host (tests/clihost.py) unless it
    needs a process of its own (replay, run, serve, db): for tests about what commands do, not
    about a process starting."""
    result = run_watchfloor_or_host(*args, cwd=cwd, env=env)
    record_output(f"watchfloor {' '.join(args)}", result.stdout + result.stderr)
    return result


def json_of(result: subprocess.CompletedProcess[str]) -> Any:
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout)


@pytest.mark.slow
def test_replay_json_twice_in_a_real_process(tmp_path: Path) -> None:
    # In a new Prefect home, as a user's first replay on a new machine (`make run`): its
    # temporary API creates its database (other replays start in a copy of a used home).
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    first = json_of(watchfloor("replay", str(SEEDS), "--db", url, "--json", cwd=tmp_path))
    assert first["articles"] == 5
    assert first["alerts_sent"] == 4
    assert sorted(d["category"] for d in first["developments"]) == [
        "military_exercise",
        "ministerial_meeting",
        "missile_launch",
        "summit",
    ]
    assert set(first["developments"][0]) == DEVELOPMENT_KEYS
    second = json_of(watchfloor("replay", str(SEEDS), "--db", url, "--json", cwd=tmp_path))
    assert second["alerts_sent"] == 0
    listed = json_of(watchfloor_hosted("developments", "--db", url, "--json", cwd=tmp_path))
    assert sorted(d["id"] for d in listed) == sorted(d["id"] for d in first["developments"])


def test_detect_reads_json_lines_without_a_database(tmp_path: Path) -> None:
    articles = tmp_path / "articles.jsonl"
    records = [
        {
            "id": "a1",
            "title": "North Korea fires ballistic missile",
            "text": "North Korea fired a ballistic missile into the East Sea on Tuesday, "
            "South Korea's Joint Chiefs of Staff said.",
            "published": "2026-03-04",
        },
        {"id": 7, "title": "Samsung event", "text": "Samsung will launch a new phone on Friday."},
    ]
    articles.write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
    result = watchfloor_hosted("detect", str(articles), "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["id"] for line in lines] == ["a1", 7]
    launch = [m for m in lines[0]["matches"] if m["category"] == "missile_launch"]
    assert launch and launch[0]["status"] == "occurred"
    assert launch[0]["event_date"] == "2026-03-03"
    assert set(launch[0]) == {
        "category",
        "status",
        "background",
        "event_date",
        "actors",
        "facts",
        "terms",
        "regions",
    }
    assert lines[1]["matches"] == []
    assert not list(tmp_path.glob("*.db")), "detect touches no database"


def test_bad_rule_file_fails_at_start_with_file_and_line(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(RULES, rules)
    broken = rules / "broken.yaml"
    broken.write_text("id: broken\ncategory: [unclosed\n", encoding="utf-8")
    result = watchfloor(
        "replay",
        str(SEEDS),
        "--db",
        f"sqlite:///{tmp_path / 'x.db'}",
        "--rules-dir",
        str(rules),
        cwd=tmp_path,
    )
    assert result.returncode == 2
    assert f"{broken}:" in result.stderr
    assert "Traceback" not in result.stderr


def test_detect_reports_bad_json_line_with_its_number(tmp_path: Path) -> None:
    articles = tmp_path / "bad.jsonl"
    articles.write_text('{"id": 1, "text": "fine"}\n{not json}\n', encoding="utf-8")
    result = watchfloor_hosted("detect", str(articles), cwd=tmp_path)
    assert result.returncode == 1, "a skipped line: the others are processed"
    assert f"{articles}:2: skipped: invalid JSON" in result.stderr
    assert result.stdout.splitlines() == ["1: -"]
