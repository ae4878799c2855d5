"""The scheduled deployment, in-process on the test Prefect API: `watchfloor serve` builds and
registers it (cron, parameters, one-at-a-time limit) and its runner executes a due run for
real; `deploy/prefect.yaml` parses, its entrypoints import, its parameters fit the flows, and
`prefect --no-prompt deploy --all` registers it from the project root."""

from __future__ import annotations

import asyncio
import inspect
import os
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from core.errors import ConfigError
from flows.cli.app import app
from flows.context.settings import load_settings
from flows.serving.deployments import (
    check_cron,
    monitor_deployment,
    served_runs_prefect_environment,
)
from flows.serving.serve import schedule_next_run, serve_monitor
from tests.adapters.feedserver import FeedServer
from tests.adapters.monitorkit import Src, prefect_api, stored_items, write_sources
from tests.clikit import run_captured
from tests.conftest import ROOT

pytestmark = pytest.mark.usefixtures("prefect_harness")

PREFECT_YAML = ROOT / "deploy" / "prefect.yaml"
PREFECT = str(Path(sys.executable).with_name("prefect"))


@pytest.fixture(scope="module")
def server() -> Iterator[FeedServer]:
    feeds = FeedServer().start()
    yield feeds
    feeds.close()


def api(call: Any) -> Any:
    """Run `call(client)` against the current Prefect API."""
    from prefect.client.orchestration import get_client

    async def main() -> Any:
        async with get_client() as client:
            return await call(client)

    return asyncio.run(main())


def read_deployment(name: str) -> Any:
    return api(lambda client: client.read_deployment_by_name(name))


def test_serve_deployment_reads_back_with_cron_parameters_and_limit(tmp_path: Path) -> None:
    sources = write_sources(tmp_path / "sources.yaml", FeedServer(), [])
    settings = load_settings(sources_file=sources, monitor_cron="*/5 * * * *")
    deployment_id = monitor_deployment(settings).apply()

    stored = read_deployment("monitor/monitor")
    assert stored.id == deployment_id
    assert [s.schedule.cron for s in stored.schedules] == ["*/5 * * * *"]
    assert [s.schedule.timezone for s in stored.schedules] == ["UTC"]
    assert all(s.active for s in stored.schedules)
    assert stored.parameters == {
        "sources_file": str(sources.resolve()),
        "rules_dir": str(settings.rules_dir.resolve()),
    }
    assert "database_url" not in stored.parameters, "secrets come from the environment"
    assert stored.global_concurrency_limit.limit == 1
    assert stored.concurrency_options.collision_strategy == "CANCEL_NEW"
    assert stored.tags == ["watchfloor"]
    assert stored.work_pool_name is None, "served from the process, no work pool"
    flow_signature = inspect.signature(monitor_flow_fn())
    assert set(stored.parameters) <= set(flow_signature.parameters)


def monitor_flow_fn() -> Any:
    from flows.monitor import monitor_flow

    return monitor_flow.fn


def test_served_deployment_executes_a_due_run(
    server: FeedServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from prefect.client.schemas.objects import StateType

    sources = write_sources(
        tmp_path / "sources.yaml", server, [Src("Peninsula Desk", "/feed/rss2_korea.xml")]
    )
    url = f"sqlite:///{tmp_path / 'served.db'}"
    # What `watchfloor serve --db URL` does: the served run's child process inherits it.
    monkeypatch.setenv("WATCHFLOOR_DATABASE_URL", url)
    monkeypatch.setenv("WATCHFLOOR_NOTIFY_URLS", "[]")
    settings = load_settings(sources_file=sources)
    deployment_id = monitor_deployment(settings).apply()
    flow_run = api(lambda client: client.create_flow_run_from_deployment(deployment_id))

    serve_monitor(settings, run_once=True)

    finished = api(lambda client: client.read_flow_run(flow_run.id))
    assert finished.state.type == StateType.COMPLETED, finished.state
    assert sum(stored_items(url).values()) == 4


def test_served_runs_skip_the_requests_serve_made_for_them() -> None:
    from prefect.settings import PREFECT_SERVER_API_CSRF_PROTECTION_ENABLED, temporary_settings

    no_version_check = {"PREFECT_CLIENT_SERVER_VERSION_CHECK_ENABLED": "false"}
    no_csrf = {"PREFECT_CLIENT_CSRF_SUPPORT_ENABLED": "false"}
    assert served_runs_prefect_environment(True) == no_version_check | no_csrf
    # Another server may protect against CSRF: its runs keep asking for tokens.
    assert served_runs_prefect_environment(False) == no_version_check
    with temporary_settings({PREFECT_SERVER_API_CSRF_PROTECTION_ENABLED: True}):
        assert served_runs_prefect_environment(True) == no_version_check


def test_serving_on_the_temporary_api_schedules_each_next_run_once(tmp_path: Path) -> None:
    # Prefect's temporary API runs no scheduler: `watchfloor serve` creates each next run.
    settings = load_settings(sources_file=write_sources(tmp_path / "s.yaml", FeedServer(), []))
    deployment_id = monitor_deployment(settings).apply()
    after = datetime(2030, 1, 1, 0, 0, 30, tzinfo=UTC)

    async def twice(client: Any) -> list[datetime]:
        return [
            await schedule_next_run(client, deployment_id, "*/10 * * * *", after) for _ in (1, 2)
        ]

    assert api(twice) == [datetime(2030, 1, 1, 0, 10, tzinfo=UTC)] * 2
    runs = prefect_api(
        "/flow_runs/filter", {"deployments": {"id": {"any_": [str(deployment_id)]}}, "limit": 50}
    )
    planned = [r for r in runs if r["expected_start_time"].startswith("2030-01-01T00:10:00")]
    assert len(planned) == 1 and planned[0]["state_type"] == "SCHEDULED"


def test_serve_refuses_a_bad_cron_before_starting(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="bad cron expression"):
        check_cron("every ten minutes")
    result = CliRunner().invoke(app, ["serve", "--cron", "61 * * * *"])
    assert result.exit_code == 2
    assert "--cron" in result.stderr and "61 * * * *" in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_refuses_a_bad_sources_file_before_starting(tmp_path: Path) -> None:
    bad = tmp_path / "sources.yaml"
    bad.write_text("sources:\n  - name: x\n    url: nowhere\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["serve", "--sources", str(bad)])
    assert result.exit_code == 2
    assert f"{bad}:3:" in result.stderr


# --- deploy/prefect.yaml ----------------------------------------------------------------------


def prefect_yaml() -> dict[str, Any]:
    return yaml.safe_load(PREFECT_YAML.read_text(encoding="utf-8"))


def test_prefect_yaml_is_valid_and_fits_the_flows(monkeypatch: pytest.MonkeyPatch) -> None:
    from prefect.cli.deploy._models import PrefectYamlModel
    from prefect.flows import load_flow_from_entrypoint

    document = prefect_yaml()
    model = PrefectYamlModel.model_validate(document)
    assert {d.name for d in model.deployments} == {"monitor", "replay"}
    monkeypatch.chdir(ROOT)  # entrypoints are relative to the project root
    for deployment in model.deployments:
        assert deployment.entrypoint is not None
        flow = load_flow_from_entrypoint(deployment.entrypoint)
        assert flow.name == deployment.name
        assert set(deployment.parameters) <= set(inspect.signature(flow.fn).parameters)
        flow.validate_parameters(deployment.parameters)
        assert deployment.work_pool is not None and deployment.work_pool.name == "watchfloor"
    monitor = next(d for d in document["deployments"] if d["name"] == "monitor")
    assert [check_cron(s["cron"]).cron for s in monitor["schedules"]] == ["*/10 * * * *"]
    assert monitor["concurrency_limit"] == {"limit": 1, "collision_strategy": "CANCEL_NEW"}
    assert (ROOT / monitor["parameters"]["sources_file"]).is_file()


@pytest.mark.slow
def test_prefect_deploy_registers_the_deployments(tmp_path: Path) -> None:
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.settings import PREFECT_API_URL

    # As the operator does first: `prefect work-pool create watchfloor --type process`.
    pool = WorkPoolCreate(name="watchfloor", type="process")
    api(lambda client: client.create_work_pool(pool, overwrite=True))
    env = {
        **os.environ,
        "PREFECT_API_URL": PREFECT_API_URL.value(),
        "PREFECT_HOME": str(tmp_path / "prefect"),
    }
    result = run_captured(
        [PREFECT, "--no-prompt", "deploy", "--all", "--prefect-file", "deploy/prefect.yaml"],
        cwd=ROOT,
        env=env,
    )
    output = result.stdout[-3000:] + result.stderr[-3000:]
    # fastapi >= 0.151 refuses the nulls Prefect 3.8's client sends: pin fastapi==0.150.0.
    assert "Input should be a valid integer" not in output, output
    assert result.returncode == 0, output

    monitor = read_deployment("monitor/monitor")
    assert monitor.work_pool_name == "watchfloor"
    assert monitor.entrypoint == "flows/monitor.py:monitor_flow"
    assert monitor.parameters == {"sources_file": "deploy/sources.yaml"}
    assert [(s.schedule.cron, s.schedule.timezone) for s in monitor.schedules] == [
        ("*/10 * * * *", "UTC")
    ]
    assert monitor.global_concurrency_limit.limit == 1
    assert monitor.concurrency_options.collision_strategy == "CANCEL_NEW"
    # Workers resolve {{ $WATCHFLOOR_HOME }} from their own environment when a run starts.
    assert monitor.pull_steps == [
        {"prefect.deployments.steps.set_working_directory": {"directory": "{{ $WATCHFLOOR_HOME }}"}}
    ]
    replay = read_deployment("replay/replay")
    assert replay.work_pool_name == "watchfloor" and replay.schedules == []
