"""Routing by region end to end: real replay and monitor flow runs, real SQLite files, json://
subscribers on a local webhook receiver, each tagged with a region.

A development's regions come from its actors and places (rules/entities.yaml) and from the
`region:` tags of the sources its evidence came from (sources.yaml)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from flows.cli.app import app
from flows.replay import replay_flow
from tests.adapters.monitorkit import run_monitor
from tests.conftest import RULES, store_env
from tests.notify.alertkit import (
    SEED_ALERTS,
    Clock,
    hook_url,
    titles,
    write_subscribers,
)
from tests.notify.receivers import HttpReceiver

pytestmark = pytest.mark.usefixtures("prefect_harness")


def test_seed_alerts_reach_the_subscribers_of_their_regions(
    sqlite_url: str, tmp_path: Path, http: HttpReceiver, clock: Clock
) -> None:
    """The launch is North Korea's; the meeting, the summit and the exercise are Japan's and
    South Korea's: `region:north-korea` gets only the launch, `region:south-korea` only the
    others, `region:korea` all four, and `region:east-asia` (the rules' tag) all four as before."""
    port = http.port
    config = write_subscribers(
        tmp_path,
        [
            (hook_url(port, "north"), "region:north-korea"),
            (hook_url(port, "south"), "region:south-korea"),
            (hook_url(port, "korea"), "region:korea"),
            (hook_url(port, "east"), "region:east-asia"),
        ],
    )
    with store_env(sqlite_url):
        report = replay_flow(apprise_config=config)
    assert (report.alerts_sent, report.deliveries_failed, report.unrouted_alerts) == (4, 0, 0)
    regions = {d["category"]: d["regions"] for d in report.replay_json()["developments"]}
    assert regions == {
        "missile_launch": ["japan", "korea", "north-korea"],  # it fell in the Sea of Japan
        "ministerial_meeting": ["japan", "korea", "south-korea"],
        "summit": ["japan", "korea", "south-korea"],
        "military_exercise": ["japan", "korea", "south-korea"],
    }
    assert titles(http, "north") == ["[MISSILE LAUNCH] occurred:"]
    assert titles(http, "south") == [t for t in SEED_ALERTS if "MISSILE" not in t]
    assert titles(http, "korea") == titles(http, "east") == SEED_ALERTS
    launch = next(r.json() for r in http.received if r.path.startswith("/north/"))
    assert "Regions: japan, korea, north-korea" in launch["message"]

    listed = CliRunner().invoke(
        app, ["developments", "--db", sqlite_url, "--json", "--region", "north-korea"]
    )
    assert listed.exit_code == 0, listed.output
    assert [d["category"] for d in json.loads(listed.stdout)] == ["missile_launch"]


# Seed files hold one paragraph a line.
LAUNCH = (
    "date: 2026-02-03\n"
    "North Korea fires two ballistic missiles into the Yellow Sea\n\n"
    "SEOUL, Feb 3 (Yonhap) -- North Korea fired two short-range ballistic missiles into the "
    "Yellow Sea on Tuesday morning, South Korea's Joint Chiefs of Staff said. The missiles flew "
    "about 300 km.\n"
)
SHOAL = (
    "date: 2026-02-04\n"
    "Chinese coast guard ships ram Philippine vessel near Second Thomas Shoal\n\n"
    "MANILA, Feb 4 -- China Coast Guard ships rammed and fired water cannon at a Philippine "
    "supply vessel near Second Thomas Shoal on Wednesday, the Philippine Coast Guard said.\n"
)


def _seed_source(folder: Path, name: str, text: str, tags: list[str]) -> dict[str, Any]:
    path = folder / name
    path.mkdir()
    (path / "article.txt").write_text(text, encoding="utf-8")
    return {"name": name, "kind": "seedfiles", "path": str(path), "tags": tags}


def test_a_sources_region_tag_routes_what_it_reports(
    sqlite_url: str, tmp_path: Path, http: HttpReceiver, clock: Clock
) -> None:
    """Nothing in the shoal report is Japanese, but the Tokyo desk that filed it is tagged
    region:japan: the Japan subscriber gets it and not the launch; the Korea subscriber gets
    the launch and not the shoal."""
    clock.advance(days=8)
    sources = tmp_path / "sources.yaml"
    document = {
        "sources": [
            _seed_source(tmp_path, "seoul-wire", LAUNCH, ["lang:en"]),
            _seed_source(tmp_path, "tokyo-desk", SHOAL, ["region:japan", "lang:en"]),
        ]
    }
    sources.write_text(yaml.safe_dump(document), encoding="utf-8")
    config = write_subscribers(
        tmp_path,
        [
            (hook_url(http.port, "korea"), "region:korea"),
            (hook_url(http.port, "japan"), "region:japan"),
        ],
    )
    with store_env(sqlite_url):
        report, _run_id = run_monitor(sources_file=str(sources), apprise_config=config)
    regions: dict[str, list[set[str]]] = {}
    for development in report.developments:
        regions.setdefault(development.category, []).append(set(development.regions))
    assert regions["missile_launch"] == [{"china", "korea", "north-korea"}]
    # The shoal report reads as two incidents (the ramming, the water cannon); each is in
    # japan by the source's tag alone.
    assert all("japan" in found for found in regions["maritime_incident"])
    assert {"philippines", "southeast-asia"} <= set.union(*regions["maritime_incident"])
    assert titles(http, "korea") == ["[MISSILE LAUNCH] occurred:"]
    japan = titles(http, "japan")
    assert japan and all(t.startswith("[MARITIME INCIDENT]") for t in japan)


def test_a_subscriber_region_no_entity_carries_is_refused(tmp_path: Path) -> None:
    """One line with file and line, exit 2, no traceback, before anything is sent."""
    config = write_subscribers(
        tmp_path, [(hook_url(1, "a"), "region:korea"), (hook_url(1, "b"), "region:koria")]
    )
    result = CliRunner().invoke(app, ["alerts", "test", "--apprise-config", config])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert result.stderr.strip().splitlines() == [
        f"config error {config}:6: unknown region in tag 'region:koria' "
        "(did you mean 'region:korea'?)"
    ]


def test_a_bad_region_in_the_alias_file_stops_rules_check(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    for path in RULES.glob("*.yaml"):
        (rules / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    entities = rules / "entities.yaml"
    lines = entities.read_text(encoding="utf-8").splitlines()
    number = next(i for i, line in enumerate(lines) if line.strip() == "region: japan")
    lines[number] = lines[number].replace("japan", "japn")
    entities.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["rules", "check", "--rules-dir", str(rules)])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert result.stderr.strip().splitlines() == [
        f"{entities}:{number + 1}: unknown region 'japn' (did you mean 'japan'?)",
        "1 problem(s)",
    ]


def test_a_source_region_nothing_carries_stops_the_run(tmp_path: Path) -> None:
    """A source's region tag is checked like a subscriber's: its region would be lost."""
    sources = tmp_path / "sources.yaml"
    sources.write_text(
        "sources:\n"
        "  - name: Tokyo desk\n"
        "    url: https://tokyo.example/feed\n"
        "    tags: [region:japn, lang:en]\n",
        encoding="utf-8",
    )
    store = tmp_path / "s.db"
    result = CliRunner().invoke(
        app, ["run", "--sources", str(sources), "--db", f"sqlite:///{store}"]
    )
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert result.stderr.strip().splitlines() == [
        f"config error {sources}:4: unknown region in tag 'region:japn' "
        "(did you mean 'region:japan'?)"
    ]
    assert not store.exists()
