"""Secrets are never Prefect parameters: `watchfloor run --db URL --notify URL` and `watchfloor
replay --db URL --notify URL`, real processes on the test Prefect API, leave flow runs whose
stored record (parameters first) holds no database URL, no path of the store and no Apprise URL
or password; and no deployment of deploy/prefect.yaml or of `serve` has such a parameter.

The Apprise password carries the session's secret marker, so the secret audit also searches
every log, output and database of the session for it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from flows.context.settings import load_settings
from flows.serving.deployments import monitor_parameters
from tests.adapters.feedserver import FeedServer
from tests.adapters.monitorkit import Src, write_sources
from tests.conftest import ROOT
from tests.secret_audit import MARKER, find_marker, record_output

pytestmark = pytest.mark.usefixtures("prefect_harness")

WATCHFLOOR = str(Path(sys.executable).with_name("watchfloor"))
SECRET_PARAMETER_NAMES = {"database_url", "notify_urls", "apprise_urls", "url", "password"}


@pytest.fixture(scope="module")
def server() -> Iterator[FeedServer]:
    feeds = FeedServer().start()
    yield feeds
    feeds.close()


def watchfloor(args: list[str], home: Path) -> str:
    """Run `watchfloor ARGS` on the test Prefect API; its stdout (it must succeed)."""
    from prefect.settings import PREFECT_API_URL

    env = {k: v for k, v in os.environ.items() if not k.startswith("WATCHFLOOR_")}
    env |= {
        "PREFECT_API_URL": PREFECT_API_URL.value(),
        "PREFECT_HOME": str(home),
        "WATCHFLOOR_FETCH_ALLOW_NETWORKS": "127.0.0.1/32",
    }
    result = subprocess.run(
        [WATCHFLOOR, *args], env=env, capture_output=True, text=True, timeout=600, check=False
    )
    record_output(f"watchfloor {args[0]}", result.stdout + result.stderr)
    assert result.returncode == 0, result.stderr[-4000:]
    return result.stdout


def flow_runs_since(started: datetime) -> list[Any]:
    """Every flow run of the monitor and replay flows created after `started`, as stored."""
    import asyncio

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        FlowFilter,
        FlowFilterName,
        FlowRunFilter,
        FlowRunFilterStartTime,
    )

    async def read() -> list[Any]:
        async with get_client() as client:
            return await client.read_flow_runs(
                flow_filter=FlowFilter(name=FlowFilterName(any_=["monitor", "replay"])),
                flow_run_filter=FlowRunFilter(start_time=FlowRunFilterStartTime(after_=started)),
            )

    return asyncio.run(read())


def test_run_and_replay_keep_urls_out_of_flow_run_parameters(
    server: FeedServer, tmp_path: Path
) -> None:
    secret_folder = tmp_path / f"store-{uuid.uuid4().hex}"
    secret_folder.mkdir()
    store_url = f"sqlite:///{secret_folder / 'watchfloor.db'}"
    password = f"{MARKER}-{uuid.uuid4().hex[:12]}"
    hook = f"json://watchfloor:{password}@127.0.0.1:{server.server_address[1]}/hook/secret"
    sources = write_sources(
        tmp_path / "sources.yaml", server, [Src("Peninsula Desk", "/feed/rss2_korea.xml")]
    )
    started = datetime.now(UTC)

    ran = json.loads(
        watchfloor(
            ["run", "--sources", str(sources), "--db", store_url, "--notify", hook, "--json"],
            tmp_path / "home-run",
        )
    )
    replayed = json.loads(
        watchfloor(["replay", "--db", store_url, "--notify", hook, "--json"], tmp_path / "home")
    )
    assert ran["articles"] == 4 and replayed["articles"] == 5, "both used the --db store"
    assert replayed["alerts_sent"] >= 1 and server.posts, "and the --notify subscriber"

    runs = flow_runs_since(started)
    # One monitor run and one replay run of this test, and any other monitor or replay run on
    # the shared test API since it started (a served schedule): none may hold a secret.
    assert len(runs) >= 2, [run.name for run in runs]
    for run in runs:
        assert not set(run.parameters) & SECRET_PARAMETER_NAMES, run.parameters
        stored = run.model_dump_json()  # parameters, labels, tags, state: all Prefect keeps
        for secret in (store_url, str(secret_folder), secret_folder.name, hook, password):
            assert secret not in stored, f"{run.name} stores a secret"
        assert not find_marker(stored)
        assert "sqlite:" not in stored and "json://" not in stored


def test_no_deployment_takes_a_url_parameter() -> None:
    document = yaml.safe_load((ROOT / "deploy" / "prefect.yaml").read_text(encoding="utf-8"))
    for deployment in document["deployments"]:
        parameters = deployment.get("parameters") or {}
        assert not set(parameters) & SECRET_PARAMETER_NAMES, deployment["name"]
        assert "://" not in json.dumps(parameters), deployment["name"]
    settings = load_settings(database_url="postgresql+psycopg://wf:pw@db/wf")
    served = monitor_parameters(settings)
    assert not set(served) & SECRET_PARAMETER_NAMES
    assert "://" not in json.dumps(served)


def test_the_flows_have_no_url_parameter() -> None:
    import inspect

    from flows.monitor import monitor_flow
    from flows.replay import replay_flow

    for flow in (monitor_flow, replay_flow):
        assert not set(inspect.signature(flow.fn).parameters) & SECRET_PARAMETER_NAMES
