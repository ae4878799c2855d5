"""`watchfloor feedback ...` as an analyst runs it: the CLI over copies of a SQLite store made by
a real replay of the seeds (alerts to a dead webhook, so deliveries wait). The commands run in
the test process's CLI host (tests/clihost.py), each as its own process would run it, without
paying the CLI's imports for each."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from db.models import alerts, deliveries
from flows.context.runtime import transaction
from flows.replay import replay_flow
from tests.conftest import store_env
from tests.flows.test_cli import json_of, watchfloor_hosted
from tests.web.webkit import APPRISE_URL


@pytest.fixture(scope="module")
def replayed(prefect_harness: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A store holding the seeds' replay, its four alerts' deliveries failed or pending."""
    path = tmp_path_factory.mktemp("feedbackstore") / "seeds.db"
    before = os.environ.get("WATCHFLOOR_NOTIFY_URLS")
    os.environ["WATCHFLOOR_NOTIFY_URLS"] = APPRISE_URL
    try:
        with store_env(f"sqlite:///{path}"):
            replay_flow()
    finally:
        if before is None:
            os.environ.pop("WATCHFLOOR_NOTIFY_URLS", None)
        else:
            os.environ["WATCHFLOOR_NOTIFY_URLS"] = before
    yield path


@pytest.fixture
def store(replayed: Path, tmp_path: Path) -> str:
    """`--db` of a copy of the replayed store that a test may change."""
    copy = tmp_path / "copy.db"
    shutil.copyfile(replayed, copy)
    return f"sqlite:///{copy}"


def run(tmp_path: Path, *args: str) -> Any:
    return watchfloor_hosted(*args, cwd=tmp_path, env={"WATCHFLOOR_NOTIFY_URLS": ""})


def ids_by_category(tmp_path: Path, store: str, *extra: str) -> dict[str, int]:
    rows = json_of(run(tmp_path, "developments", "--db", store, "--json", *extra))
    return {row["category"]: row["id"] for row in rows}


def assert_refused(result: Any, words: str) -> None:
    """One clear line on stderr, exit 2, no traceback."""
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and words in lines[0], result.stderr
    assert "Traceback" not in result.stderr


def test_a_false_alarm_leaves_the_list_withdraws_its_deliveries_and_is_recorded(
    tmp_path: Path, store: str
) -> None:
    launch = ids_by_category(tmp_path, store)["missile_launch"]
    waiting = [
        d["state"]
        for a in json_of(run(tmp_path, "alerts", "list", "--db", store, "--json"))
        if a["development_id"] == launch
        for d in a["deliveries"]
    ]
    assert waiting and "withdrawn" not in waiting

    done = run(tmp_path, "feedback", "false-alarm", str(launch), "--by", "alice", "--db", store)
    assert done.returncode == 0, done.stderr
    assert f"development {launch} marked a false alarm by alice" in done.stdout
    assert "missile_launch" not in ids_by_category(tmp_path, store)
    assert ids_by_category(tmp_path, store, "--dismissed", "false_alarm") == {
        "missile_launch": launch
    }
    assert len(ids_by_category(tmp_path, store, "--dismissed", "all")) == 4
    every = json_of(run(tmp_path, "developments", "--db", store, "--dismissed", "all", "--json"))
    verdicts = {row["id"]: (row["dismissed"], row["merged_into"]) for row in every}
    assert verdicts.pop(launch) == ("false_alarm", None), "a JSON reader tells which is dismissed"
    assert set(verdicts.values()) == {(None, None)}
    table = run(tmp_path, "developments", "--db", store).stdout
    assert "missile_launch" not in table

    alerts = json_of(run(tmp_path, "alerts", "list", "--db", store, "--json"))
    states = {(a["development_id"] == launch, d["state"]) for a in alerts for d in a["deliveries"]}
    assert {state for mine, state in states if mine} == {"withdrawn"}
    assert {a["state"] for a in alerts if a["development_id"] == launch} == {"withdrawn"}
    assert "withdrawn" not in {state for mine, state in states if not mine}
    run(tmp_path, "alerts", "retry", "--requeue-only", "--db", store)
    alerts = json_of(run(tmp_path, "alerts", "list", "--db", store, "--json"))
    assert {
        d["state"] for a in alerts if a["development_id"] == launch for d in a["deliveries"]
    } == {"withdrawn"}  # a retry does not bring them back

    (record,) = json_of(run(tmp_path, "feedback", "list", "--db", store, "--json"))
    assert (record["action"], record["development_id"], record["actor"]) == (
        "false_alarm",
        launch,
        "alice",
    )
    assert record["details"]["withdrawn_deliveries"] == len(waiting)
    assert "alice" in run(tmp_path, "feedback", "list", "--db", store).stdout

    assert_refused(
        run(tmp_path, "feedback", "false-alarm", str(launch), "--db", store), "false alarm"
    )
    restored = run(tmp_path, "feedback", "restore", str(launch), "--db", store)
    assert restored.returncode == 0, restored.stderr
    assert ids_by_category(tmp_path, store)["missile_launch"] == launch


def test_an_alert_dismissed_before_it_was_routed_reads_withdrawn_never_sent(
    tmp_path: Path, store: str
) -> None:
    launch = ids_by_category(tmp_path, store)["missile_launch"]
    with transaction(store) as session:  # raised, then the run died before its send stage
        raised = sa.select(alerts.c.id).where(alerts.c.development_id == launch)
        session.execute(sa.delete(deliveries).where(deliveries.c.alert_id.in_(raised)))
        session.execute(sa.update(alerts).where(alerts.c.id.in_(raised)).values(routed_at=None))
    listed = json_of(run(tmp_path, "alerts", "list", "--db", store, "--json"))
    assert {a["state"] for a in listed if a["development_id"] == launch} == {"queued"}

    done = run(tmp_path, "feedback", "false-alarm", str(launch), "--db", store)
    assert done.returncode == 0, done.stderr
    listed = json_of(run(tmp_path, "alerts", "list", "--db", store, "--json"))
    assert {a["state"] for a in listed if a["development_id"] == launch} == {"withdrawn"}
    pending = json_of(run(tmp_path, "alerts", "list", "--db", store, "--pending", "--json"))
    assert launch not in {a["development_id"] for a in pending}, "no sender picks it up"


def test_split_and_merge_move_evidence_and_are_recorded(tmp_path: Path, store: str) -> None:
    meeting = ids_by_category(tmp_path, store)["ministerial_meeting"]
    evidence = json_of(run(tmp_path, "feedback", "evidence", str(meeting), "--db", store, "--json"))
    assert len(evidence) == 5
    chosen = [str(row["id"]) for row in evidence[:2]]

    split = run(tmp_path, "feedback", "split", str(meeting), *chosen, "--by", "bob", "--db", store)
    assert split.returncode == 0, split.stderr
    rows = json_of(run(tmp_path, "developments", "--db", store, "--json"))
    meetings = {r["id"]: r for r in rows if r["category"] == "ministerial_meeting"}
    assert len(meetings) == 2
    (new_id,) = set(meetings) - {meeting}
    assert len(meetings[meeting]["evidence"]) == 3 and len(meetings[new_id]["evidence"]) == 2
    assert f"into development {new_id}" in split.stdout

    merged = run(tmp_path, "feedback", "merge", str(new_id), str(meeting), "--db", store)
    assert merged.returncode == 0, merged.stderr
    rows = json_of(run(tmp_path, "developments", "--db", store, "--json"))
    meetings = {r["id"]: r for r in rows if r["category"] == "ministerial_meeting"}
    assert list(meetings) == [meeting] and len(meetings[meeting]["evidence"]) == 5
    assert new_id in ids_by_category(tmp_path, store, "--dismissed", "merged").values()
    [gone] = json_of(
        run(tmp_path, "developments", "--db", store, "--dismissed", "merged", "--json")
    )
    assert (gone["id"], gone["dismissed"], gone["merged_into"]) == (new_id, "merged", meeting)

    actions = json_of(run(tmp_path, "feedback", "list", "--db", store, "--json"))
    assert [(a["action"], a["development_id"], a["target_id"]) for a in actions] == [
        ("split", meeting, new_id),
        ("merge", new_id, meeting),
    ]
    assert actions[0]["details"]["evidence_ids"] == [int(i) for i in chosen]
    assert actions[0]["actor"] == "bob"


def test_bad_feedback_is_one_line_and_exit_2(tmp_path: Path, store: str) -> None:
    ids = ids_by_category(tmp_path, store)
    launch, summit = ids["missile_launch"], ids["summit"]
    meeting = ids["ministerial_meeting"]
    foreign = json_of(run(tmp_path, "feedback", "evidence", str(launch), "--db", store, "--json"))
    cases = [
        (("false-alarm", "999"), "no development 999"),
        (("merge", str(launch), str(launch)), "into itself"),
        (("merge", str(launch), str(summit)), "one category"),
        (("split", str(meeting), str(foreign[0]["id"])), "is not evidence of"),
        (("split", str(launch), *[str(r["id"]) for r in foreign]), "leave it empty"),
        (("restore", str(launch)), "not marked a false alarm"),
    ]
    for args, words in cases:
        assert_refused(run(tmp_path, "feedback", *args, "--db", store), words)
    missing = f"sqlite:///{tmp_path / 'none.db'}"
    assert_refused(run(tmp_path, "feedback", "false-alarm", "1", "--db", missing), "no store")
    assert_refused(run(tmp_path, "developments", "--dismissed", "maybe", "--db", store), "one of")
    assert json_of(run(tmp_path, "feedback", "list", "--db", store, "--json")) == []


def test_the_export_is_read_by_rules_test(tmp_path: Path, store: str) -> None:
    """A false alarm's reports come out labelled as not being its category, so `rules test`
    counts the rules' firing on them as false alarms; a split's reports stay positives."""
    ids = ids_by_category(tmp_path, store)
    launch, meeting = ids["missile_launch"], ids["ministerial_meeting"]
    assert run(tmp_path, "feedback", "false-alarm", str(launch), "--db", store).returncode == 0
    evidence = json_of(run(tmp_path, "feedback", "evidence", str(meeting), "--db", store, "--json"))
    held = str(evidence[-1]["id"])  # a report of the meeting being held: a positive
    assert run(tmp_path, "feedback", "split", str(meeting), held, "--db", store).returncode == 0

    exported = run(tmp_path, "feedback", "export", "examples.jsonl", "--db", store)
    assert exported.returncode == 0, exported.stderr
    assert "watchfloor rules test examples.jsonl --labels examples.tsv" in exported.stdout
    lines = (tmp_path / "examples.tsv").read_text(encoding="utf-8").splitlines()
    assert lines[0] == "id\tevents\treason"
    labels = {line.split("\t")[0]: line.split("\t")[1] for line in lines[1:]}
    articles = [json.loads(line) for line in (tmp_path / "examples.jsonl").read_text().splitlines()]
    assert sorted(labels) == sorted(a["id"] for a in articles)
    launch_reports = {f"article-{i}" for i in range(1, 6)} & set(labels)
    assert len(labels) == 4  # the launch's three reports and the held report split off
    assert "ministerial_meeting" in labels.values()

    scored = run(tmp_path, "rules", "test", "examples.jsonl", "--labels", "examples.tsv", "--json")
    result = json_of(scored)
    alarms = {(a["id"], a["category"]) for a in result["false_alarms"]}
    marked = {key for key, events in labels.items() if events == "none"}
    assert len(marked) == 3 and marked <= launch_reports
    assert alarms == {(key, "missile_launch") for key in marked}
    assert result["categories"]["ministerial_meeting"]["tp"] == 1
    assert result["misses"] == []
