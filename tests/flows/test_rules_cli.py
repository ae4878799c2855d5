"""`watchfloor rules check | explain | test` as a user runs them (in process: no database, no
Prefect)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from flows.cli.app import app
from tests.conftest import RULES

LAUNCH = "North Korea fired two ballistic missiles into the East Sea on Tuesday."
LAUNCH_KO = "북한이 동해상으로 탄도미사일 2발을 발사했다."


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
    assert set(report) == {
        "categories", "micro", "misses", "false_alarms", "languages", "confusion",
    }  # fmt: skip
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


# (id, record, label). What the shipped rules report on each was checked by running them: the
# English launch and both Korean ones are reported as missile launches, the phone and the warning
# are not.
LANGUAGE_CORPUS = [
    ("en-hit", {"text": LAUNCH, "published": "2026-01-28", "lang": "en"}, "missile_launch"),
    ("en-phone", {"text": "Samsung will launch a new phone on Friday.", "lang": "en"}, "none"),
    (
        "en-warning",
        {"text": "North Korea may launch an ICBM soon.", "lang": "en"},
        "missile_launch",
    ),
    ("ko-hit", {"text": LAUNCH_KO, "lang": "ko"}, "missile_launch"),
    ("ko-alarm", {"text": LAUNCH_KO, "lang": "ko"}, "none"),
    ("nolang-alarm", {"text": "North Korea fired two ballistic missiles on Tuesday."}, "none"),
]
LANGUAGE_IDS = [key for key, _record, _label in LANGUAGE_CORPUS]


def write_language_corpus(folder: Path) -> tuple[Path, Path]:
    articles, labels = folder / "articles.jsonl", folder / "labels.tsv"
    lines = [json.dumps({"id": key, "title": "", **record}) for key, record, _l in LANGUAGE_CORPUS]
    articles.write_text("\n".join(lines) + "\n", encoding="utf-8")
    rows = [f"{key}\t{label}\tx" for key, _record, label in LANGUAGE_CORPUS]
    labels.write_text("id\tevents\treason\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return articles, labels


def language_rows(stdout: str) -> dict[str, list[str]]:
    """The language table's rows: language -> P, R, F1, support, TP, FP, FN, articles."""
    lines = stdout.splitlines()
    start = next(n for n, line in enumerate(lines) if line.startswith("language"))
    assert lines[start].split()[-1] == "articles"
    end = lines.index("", start)
    return {row[0]: row[1:] for row in (line.split() for line in lines[start + 1 : end])}


def test_rules_test_scores_each_language(tmp_path: Path) -> None:
    articles, labels = write_language_corpus(tmp_path)
    result = run("test", str(articles), "--labels", str(labels), "--rules-dir", str(RULES))
    assert result.exit_code == 0, result.output
    assert language_rows(result.stdout) == {
        "en": ["1.00", "0.50", "0.67", "2", "1", "0", "1", "3"],
        "ko": ["0.50", "1.00", "0.67", "1", "1", "1", "0", "2"],
        "unknown": ["0.00", "1.00", "0.00", "0", "0", "1", "0", "1"],
    }


def test_rules_test_lists_each_kind_of_confusion_most_frequent_first(tmp_path: Path) -> None:
    articles, labels = write_language_corpus(tmp_path)
    result = run("test", str(articles), "--labels", str(labels), "--rules-dir", str(RULES))
    assert result.exit_code == 0, result.output
    lines = [line.strip() for line in result.stdout.splitlines()]
    start = lines.index("confusion (3 articles with an error):")
    assert lines[start + 1 : start + 3] == [
        "labelled none -> reported missile_launch: 2 (ko-alarm, nolang-alarm)",
        "labelled missile_launch -> reported none: 1 (en-warning)",
    ]
    assert any(line.startswith("en-warning missile_launch:") for line in lines)


def test_rules_test_json_has_languages_and_confusion(tmp_path: Path) -> None:
    articles, labels = write_language_corpus(tmp_path)
    result = run(
        "test", str(articles), "--labels", str(labels), "--json", "--rules-dir", str(RULES)
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["languages"]["ko"] == {
        "precision": 0.5, "recall": 1.0, "f1": 0.6667, "tp": 1, "fp": 1, "fn": 0, "articles": 2,
    }  # fmt: skip
    assert sorted(report["languages"]) == ["en", "ko", "unknown"]
    assert report["confusion"] == [
        {"labelled": [], "reported": ["missile_launch"], "count": 2,
         "ids": ["ko-alarm", "nolang-alarm"]},
        {"labelled": ["missile_launch"], "reported": [], "count": 1, "ids": ["en-warning"]},
    ]  # fmt: skip
    assert [alarm["id"] for alarm in report["false_alarms"]] == ["ko-alarm", "nolang-alarm"]


def test_scores_only_names_no_article(tmp_path: Path) -> None:
    articles, labels = write_language_corpus(tmp_path)
    args = ["test", str(articles), "--labels", str(labels), "--scores-only"]
    text = run(*args, "--rules-dir", str(RULES))
    report = run(*args, "--json", "--rules-dir", str(RULES))
    assert text.exit_code == 0 and report.exit_code == 0, text.output + report.output
    for output in (text.stdout, report.stdout):
        assert not [key for key in LANGUAGE_IDS if key in output], output
    assert [line.strip() for line in text.stdout.splitlines()[-2:]] == [
        "labelled none -> reported missile_launch: 2",
        "labelled missile_launch -> reported none: 1",
    ]
    assert "misses" not in text.stdout and "false alarms" not in text.stdout
    assert language_rows(text.stdout)["ko"][-1] == "2"
    parsed = json.loads(report.stdout)
    assert set(parsed) == {"categories", "micro", "languages", "confusion"}
    assert parsed["confusion"][0] == {"labelled": [], "reported": ["missile_launch"], "count": 2}


def test_a_lang_that_is_not_a_string_fails_with_file_and_line(tmp_path: Path) -> None:
    articles, labels = write_corpus(tmp_path, "id\tevents\treason\na1\tnone\tx\n")
    with articles.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps({"id": "a4", "text": "x", "lang": ["en"]}) + "\n")
    result = run("test", str(articles), "--labels", str(labels), "--rules-dir", str(RULES))
    assert result.exit_code == 2
    assert f"{articles}:4: 'lang' must be a string" in result.stderr
