"""`watchfloor rules check | explain | test` as a user runs them (in process: no database, no
Prefect)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from flows.cli import app
from tests.conftest import RULES

LAUNCH = "North Korea fired two ballistic missiles into the East Sea on Tuesday."


def run(*args: str) -> Any:
    return CliRunner().invoke(app, ["rules", *args])


def write_corpus(folder: Path, labels: str) -> tuple[Path, Path]:
    articles = folder / "articles.jsonl"
    records = [
        {"id": "a1", "title": "", "text": LAUNCH, "published": "2026-01-28"},
        {"id": "a2", "title": "", "text": "Samsung will launch a new phone on Friday."},
        {"id": "a3", "title": "", "text": "North Korea may launch an ICBM soon, Seoul warned."},
    ]
    articles.write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
    path = folder / "labels.tsv"
    path.write_text(labels, encoding="utf-8")
    return articles, path


def test_check_summarises_the_shipped_rules() -> None:
    result = run("check", "--rules-dir", str(RULES))
    assert result.exit_code == 0, result.output
    assert "categories" in result.stdout and "examples hold" in result.stdout
    assert "missile_launch" in result.stdout


def test_check_reports_every_problem_with_file_and_line(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(RULES, rules)
    (rules / "broken.yaml").write_text(
        "id: broken\ncategory: missile_launch\ntitle: x\nselections:\n  a: [fired]\n"
        "condition: a and ghost\n",
        encoding="utf-8",
    )
    (rules / "wrong.yaml").write_text(
        "id: wrong\ncategory: summit\ntitle: x\nselections:\n  a: [summit]\ncondition: a\n"
        "examples:\n  negative: ['The leaders held a summit.']\n",
        encoding="utf-8",
    )
    result = run("check", "--rules-dir", str(rules))
    assert result.exit_code == 2
    assert f"{rules / 'broken.yaml'}:6: condition uses unknown selection 'ghost'" in result.stderr
    assert f"{rules / 'wrong.yaml'}:8: rule wrong: negative example fails" in result.stderr


def test_explain_shows_terms_status_and_time() -> None:
    result = run(
        "explain", "missile_launch", "--text", LAUNCH, "--published", "2026-01-28",
        "--rules-dir", str(RULES),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "rule missile_launch: FIRES" in result.stdout
    assert "status: occurred (cue 'fired')" in result.stdout
    assert "time: recent" in result.stdout
    assert "North Korea fires two ballistic missiles" in result.stdout


def test_explain_json_says_why_a_plan_is_not_news() -> None:
    result = run(
        "explain", "missile_launch", "--text", "North Korea may launch an ICBM soon.",
        "--json", "--rules-dir", str(RULES),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["rule"] == "missile_launch" and report["fired"]
    (anchor,) = report["sentences"][0]["anchors"]
    assert anchor["mention"]["status"] == "planned"
    assert anchor["mention"]["status_cue"] == "may launch"
    assert [m["positive"] for m in report["matches"]] == [False]


def test_explain_of_an_unknown_rule_lists_the_rules() -> None:
    result = run("explain", "nope", "--text", "x", "--rules-dir", str(RULES))
    assert result.exit_code == 2
    assert "no rule 'nope'" in result.output and "missile_launch" in result.output


def test_rules_test_prints_scores_misses_and_false_alarms(tmp_path: Path) -> None:
    articles, labels = write_corpus(
        tmp_path,
        "id\tevents\treason\na1\tmissile_launch\tfired\na2\tnone\tphone\na3\tmissile_launch\tx\n",
    )
    result = run("test", str(articles), "--labels", str(labels), "--rules-dir", str(RULES))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["category", "P", "R", "F1", "support", "TP", "FP", "FN"]
    assert lines[1].split()[:5] == ["missile_launch", "1.00", "0.50", "0.67", "2"]
    assert any(line.startswith("micro") for line in lines)
    assert any(
        line.strip().startswith("a3 missile_launch:") and "planned" in line for line in lines
    )


def test_rules_test_json(tmp_path: Path) -> None:
    articles, labels = write_corpus(
        tmp_path, "id\tevents\treason\na1\tnone\tsay\na2\tnone\tphone\na3\tnone\tplan\n"
    )
    result = run(
        "test", str(articles), "--labels", str(labels), "--json", "--rules-dir", str(RULES)
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert set(report) == {"categories", "micro", "misses", "false_alarms"}
    assert set(report["categories"]["missile_launch"]) == {
        "precision", "recall", "f1", "tp", "fp", "fn",
    }  # fmt: skip
    assert set(report["micro"]) == {"precision", "recall", "f1"}
    assert report["misses"] == []
    (alarm,) = report["false_alarms"]
    assert (alarm["id"], alarm["category"]) == ("a1", "missile_launch")
    assert "fired" in alarm["reason"]


def test_a_bad_labels_file_fails_with_file_and_line(tmp_path: Path) -> None:
    articles, labels = write_corpus(
        tmp_path, "id\tevents\treason\na1\tmissile_launch\tok\na2\tmissiles\ttypo\n"
    )
    result = run("test", str(articles), "--labels", str(labels), "--rules-dir", str(RULES))
    assert result.exit_code == 2
    assert f"{labels}:3: a2: unknown category missiles" in result.stderr


def test_labels_for_articles_that_are_not_there_are_an_error(tmp_path: Path) -> None:
    articles, labels = write_corpus(tmp_path, "id\tevents\treason\nzz\tnone\tmissing\n")
    result = run("test", str(articles), "--labels", str(labels), "--rules-dir", str(RULES))
    assert result.exit_code == 2
    assert "zz" in result.stderr
