"""`watchfloor alerts test | list | retry` as a user runs them: real processes, a private
PREFECT_HOME, a real SQLite file and a real local webhook. The replay runs in a process of its
own; the alerts commands, one after another in the test process's CLI host (tests/clihost.py),
each as its own process would run it. Every output is handed to the secrets audit and checked
here too: only Apprise's privacy form of a URL may appear."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

import notify
from tests.clikit import run_watchfloor_or_host
from tests.conftest import SEEDS
from tests.notify.alertkit import hook_url, write_subscribers
from tests.notify.receivers import HttpReceiver, free_port
from tests.secret_audit import find_marker, record_output

pytestmark = pytest.mark.slow


def watchfloor(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the CLI (a flow command in a process of its own, any other in the CLI host); its
    output goes to the secrets audit and must hold no secret."""
    result = run_watchfloor_or_host(*args, cwd=cwd, env=env)
    # The label names the command only: its arguments may hold a subscriber URL.
    record_output(f"watchfloor {' '.join(a for a in args[:2] if '://' not in a)}", result.stdout)
    record_output(f"watchfloor {args[0]} (stderr)", result.stderr)
    assert not find_marker(result.stdout + result.stderr), "a secret reached the CLI output"
    return result


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    return result.stdout


def as_json(result: subprocess.CompletedProcess[str]) -> Any:
    return json.loads(ok(result))


def display(url: str) -> str:
    """What the CLI may show of a subscriber URL."""
    (target,) = notify.load_targets(None, [url])
    return target.display


def test_list_test_and_retry_in_a_real_process(tmp_path: Path, prefect_api_url: str) -> None:
    port = free_port()  # the subscriber's webhook is down to begin with
    launches = hook_url(port, "launches")
    config = write_subscribers(tmp_path, [(launches, "missile_launch")])
    database = f"sqlite:///{tmp_path / 'alerts.db'}"
    # The replay runs on the session's Prefect API: the test is about the alerts it leaves.
    replay_env = {"WATCHFLOOR_DELIVERY_MAX_ATTEMPTS": "1", "PREFECT_API_URL": prefect_api_url}

    replayed = as_json(
        watchfloor(
            "replay", str(SEEDS), "--db", database, "--apprise-config", config, "--json",
            cwd=tmp_path, env=replay_env,
        )
    )  # fmt: skip
    assert replayed["alerts_sent"] == 0

    listing = ok(watchfloor("alerts", "list", "--db", database, cwd=tmp_path))
    assert listing.count(" UNROUTED ") == 3
    assert "unrouted: matched no subscriber" in listing
    assert listing.count(" FAILED ") == 1
    assert f"failed   {display(launches)}  attempts 1" in listing
    assert "last error: " in listing
    assert listing.rstrip().endswith("4 alerts: 1 failed, 3 unrouted")

    (failed,) = as_json(
        watchfloor("alerts", "list", "--failed", "--json", "--db", database, cwd=tmp_path)
    )
    assert (failed["category"], failed["kind"], failed["state"]) == (
        "missile_launch",
        "new",
        "failed",
    )
    (row,) = failed["deliveries"]
    assert (row["target"], row["state"], row["attempts"]) == (display(launches), "failed", 1)
    assert row["last_error"]
    assert (
        as_json(watchfloor("alerts", "list", "--pending", "--json", "--db", database, cwd=tmp_path))
        == []
    )
    unrouted = as_json(
        watchfloor("alerts", "list", "--unrouted", "--json", "--db", database, cwd=tmp_path)
    )
    assert [a["state"] for a in unrouted] == ["unrouted"] * 3
    both = watchfloor("alerts", "list", "--pending", "--failed", "--db", database, cwd=tmp_path)
    assert both.returncode == 2

    down = watchfloor("alerts", "test", "--apprise-config", config, cwd=tmp_path)
    assert down.returncode == 1
    assert f"FAILED  {display(launches)}: " in down.stdout
    assert "0 of 1 subscribers reached" in down.stdout

    receiver = HttpReceiver(port=port)
    try:
        tested = ok(
            watchfloor(
                "alerts",
                "test",
                "--apprise-config",
                config,
                "--tag",
                "missile_launch",
                cwd=tmp_path,
            )
        )
        assert f"ok      {display(launches)}" in tested
        assert [r.json()["title"] for r in receiver.received] == ["Watchfloor test message"]
        nobody = watchfloor(
            "alerts", "test", "--apprise-config", config, "--tag", "summit", cwd=tmp_path
        )
        assert nobody.returncode == 1 and "no subscriber is tagged 'summit'" in nobody.stderr

        retried = ok(
            watchfloor(
                "alerts", "retry", "--db", database, "--apprise-config", config, cwd=tmp_path
            )
        )
        assert "requeued 1 failed deliveries" in retried
        assert "sent 1, failed 0" in retried
        assert receiver.received[-1].json()["title"].startswith("[MISSILE LAUNCH] occurred:")

        after = as_json(watchfloor("alerts", "list", "--json", "--db", database, cwd=tmp_path))
        assert sorted(a["state"] for a in after) == ["sent", "unrouted", "unrouted", "unrouted"]
        again = ok(
            watchfloor(
                "alerts", "retry", "--db", database, "--apprise-config", config, cwd=tmp_path
            )
        )
        assert "requeued 0 failed deliveries" in again and "sent 0, failed 0" in again
        assert len(receiver.received) == 2
    finally:
        receiver.close()  # fmt: skip


def test_notify_option_and_no_subscribers(tmp_path: Path) -> None:
    receiver = HttpReceiver()
    try:
        url = hook_url(receiver.port, "cli")
        tested = as_json(watchfloor("alerts", "test", "--notify", url, "--json", cwd=tmp_path))
        assert tested == [{"target": display(url), "tags": [], "ok": True, "error": None}]
        assert receiver.received[0].headers["X-Token"].startswith("WFSECRET")  # it was used
    finally:
        receiver.close()

    none = watchfloor("alerts", "test", cwd=tmp_path)
    assert none.returncode == 2 and "no subscribers configured" in none.stderr
    database = f"sqlite:///{tmp_path / 'empty.db'}"
    requeue = ok(watchfloor("alerts", "retry", "--db", database, cwd=tmp_path))
    assert "requeued 0 failed deliveries" in requeue
    assert "no subscribers configured here" in requeue and "next run" in requeue
    assert ok(watchfloor("alerts", "list", "--db", database, cwd=tmp_path)).strip() == "0 alerts"


def test_alerts_test_refuses_tags_no_rule_can_produce(tmp_path: Path) -> None:
    """`alerts test` validates subscribers as a run does: a category or region that no loaded
    rule produces is refused with file, line and a suggestion, before anything is sent."""
    config = write_subscribers(
        tmp_path, [(hook_url(free_port(), "a"), "missile_lanch"), (hook_url(free_port(), "b"), "")]
    )
    refused = watchfloor("alerts", "test", "--apprise-config", config, cwd=tmp_path)
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert "subscribers.yaml" in refused.stderr and "missile_launch" in refused.stderr
