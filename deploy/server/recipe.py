"""Watchfloor on a Prefect server with a process work pool and a worker: a tested recipe.

From the project folder (the `prefect` and `python` of the project's .venv):

    .venv/bin/python deploy/server/recipe.py demo --db sqlite:///.run/server-demo.db
        start a server on 127.0.0.1, create the `watchfloor` process pool, deploy the monitor and
        replay flows from deploy/prefect.yaml, start a worker, run the replay deployment, print
        its state and result, then stop everything
    .venv/bin/python deploy/server/recipe.py up --port 4200 --db postgresql://watchfloor@db/wf
        the same set-up, left running (Ctrl-C stops the worker and the server)

Each step is one `prefect` command, so the recipe reads as what an operator types:

    prefect server start --host 127.0.0.1 --port PORT         # PREFECT_HOME=..., analytics off
    prefect work-pool create watchfloor --type process --overwrite
    prefect --no-prompt deploy --all --prefect-file deploy/prefect.yaml   # WATCHFLOOR_HOME=$PWD
    prefect worker start --pool watchfloor                    # WATCHFLOOR_* settings here
    prefect deployment run replay/replay                      # store: WATCHFLOOR_DATABASE_URL

Every process started here leads its own process group and is stopped with it (and with any
process it started) on exit, error or Ctrl-C.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PROJECT = Path(__file__).resolve().parents[2]
POOL = "watchfloor"
DEPLOYMENTS = ("monitor/monitor", "replay/replay")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


class RecipeError(RuntimeError):
    """A step failed; the message says which and shows the end of its output."""


@dataclass(frozen=True, slots=True)
class RunOutcome:
    """What a triggered flow run ended as: its final state, its result and its artifact."""

    flow_run_id: str
    state: str
    result: Any
    artifact: list[dict[str, Any]] | None


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def prefect_bin() -> str:
    """The `prefect` command of the Python running this recipe (the project's .venv)."""
    return str(Path(sys.executable).with_name("prefect"))


@dataclass
class Stack:
    """A Prefect server, a process work pool and workers for Watchfloor on this machine.

    `home` holds the server's state (PREFECT_HOME; its SQLite database unless `prefect_db_url`
    names another, e.g. postgresql+asyncpg://...). `watchfloor_env` are the WATCHFLOOR_*
    settings the workers (and so the flow runs) get: database URL, subscribers, rules.
    `server_env` adds PREFECT_SERVER_* settings for the server only.
    """

    home: Path
    port: int = 0
    project: Path = PROJECT
    prefect_db_url: str | None = None
    watchfloor_env: Mapping[str, str] = field(default_factory=dict)
    scheduler: bool = True
    server_env: Mapping[str, str] = field(default_factory=dict)
    logs: Path | None = None
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        self.port = self.port or free_port()
        self.logs = self.logs or self.home / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)

    # --- environment -------------------------------------------------------------------------

    @property
    def api_url(self) -> str:
        """The server's API, as clients and workers reach it."""
        return f"http://127.0.0.1:{self.port}/api"

    def env(self, **extra: str) -> dict[str, str]:
        """The environment of every process of the stack.

        Prefect: its state in `home`, no telemetry, the server's API. Results persisted (in
        `home/storage`) so that whoever triggers a run can read what it returned.
        """
        base = {
            k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "WATCHFLOOR_"))
        }
        base.update(
            {
                "PREFECT_HOME": str(self.home),
                "PREFECT_API_URL": self.api_url,
                "DO_NOT_TRACK": "1",
                "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
                "PREFECT_RESULTS_PERSIST_BY_DEFAULT": "true",
                "PREFECT_LOCAL_STORAGE_PATH": str(self.home / "storage"),
                "WATCHFLOOR_HOME": str(self.project),
            }
        )
        if self.prefect_db_url:
            base["PREFECT_API_DATABASE_CONNECTION_URL"] = self.prefect_db_url
        return {**base, **extra}

    # --- processes ---------------------------------------------------------------------------

    def _spawn(self, name: str, args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        """Start a long-running process in its own group, output to logs/NAME.log."""
        assert self.logs is not None
        with (self.logs / f"{name}.log").open("ab") as log:
            proc = subprocess.Popen(
                args,
                cwd=self.project,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.processes.append(proc)
        return proc

    def prefect(self, *args: str, timeout: float = 300) -> str:
        """Run one `prefect` command to completion; its output, or RecipeError."""
        proc = subprocess.run(
            [prefect_bin(), *args],
            cwd=self.project,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if proc.returncode != 0:
            raise RecipeError(
                f"`prefect {' '.join(args)}` failed ({proc.returncode}):\n"
                f"{(proc.stdout + proc.stderr)[-3000:]}"
            )
        return proc.stdout

    def log_tail(self, name: str, lines: int = 40) -> str:
        """The end of a process's log."""
        assert self.logs is not None
        path = self.logs / f"{name}.log"
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    # --- the steps ---------------------------------------------------------------------------

    def start_server(self, timeout: float = 180) -> None:
        """`prefect server start` on 127.0.0.1 (no UI), then wait for /api/health."""
        args = [prefect_bin(), "server", "start", "--host", "127.0.0.1", "--port", str(self.port)]
        args += ["--no-ui", "--analytics-off"]
        args += ["--scheduler" if self.scheduler else "--no-scheduler"]
        proc = self._spawn("server", args, self.env(**dict(self.server_env)))
        self.wait_healthy(proc, timeout)

    def wait_healthy(self, proc: subprocess.Popen[bytes], timeout: float) -> None:
        """Block until the server answers /api/health, or fail with its log."""
        import httpx

        deadline = time.monotonic() + timeout
        # One client for every look: `httpx.get` builds a TLS context each call (~20 ms of CPU,
        # four times a second while the server starts).
        with httpx.Client(timeout=2) as client:
            while time.monotonic() < deadline:
                if proc.poll() is not None:
                    raise RecipeError(
                        f"the server exited ({proc.returncode}):\n{self.log_tail('server')}"
                    )
                with contextlib.suppress(httpx.HTTPError):
                    if client.get(f"{self.api_url}/health").status_code == 200:
                        return
                time.sleep(0.25)
        raise RecipeError(
            f"the server was not healthy in {timeout:.0f} s:\n{self.log_tail('server')}"
        )

    def create_pool(self) -> None:
        """The `watchfloor` process work pool (replaced if it exists)."""
        self.prefect("work-pool", "create", POOL, "--type", "process", "--overwrite")

    def deploy_all(self) -> str:
        """Every deployment of deploy/prefect.yaml, from the project folder."""
        return self.prefect(
            "--no-prompt", "deploy", "--all", "--prefect-file", "deploy/prefect.yaml"
        )

    def start_worker(self, name: str = "worker-1", limit: int | None = None) -> None:
        """`prefect worker start --pool watchfloor`; flow runs inherit its WATCHFLOOR_* settings.

        The worker asks for work every 2 s (Prefect's default is 10 s).
        """
        args = [prefect_bin(), "worker", "start", "--pool", POOL, "--name", name]
        args += ["--type", "process", "--install-policy", "never"]
        if limit:
            args += ["--limit", str(limit)]
        env = self.env(PREFECT_WORKER_QUERY_SECONDS="2", **dict(self.watchfloor_env))
        self._spawn(name, args, env)

    @contextlib.contextmanager
    def client(self) -> Iterator[Any]:
        """A synchronous Prefect client on this server (from any process's settings)."""
        from prefect.client.orchestration import get_client
        from prefect.settings import (
            PREFECT_API_URL,
            PREFECT_LOCAL_STORAGE_PATH,
            temporary_settings,
        )

        updates = {
            PREFECT_API_URL: self.api_url,
            PREFECT_LOCAL_STORAGE_PATH: str(self.home / "storage"),
        }
        with temporary_settings(updates=updates), get_client(sync_client=True) as client:
            yield client

    def deployments(self) -> dict[str, dict[str, Any]]:
        """'flow/deployment' -> its work pool, schedules and parameters, as the server has them."""
        found = {}
        with self.client() as client:
            flows = {f.id: f.name for f in client.read_flows()}
            for d in client.read_deployments():
                found[f"{flows.get(d.flow_id, '?')}/{d.name}"] = {
                    "work_pool": d.work_pool_name,
                    "schedules": [
                        str(getattr(s.schedule, "cron", s.schedule)) for s in d.schedules
                    ],
                    "parameters": dict(d.parameters),
                    "entrypoint": d.entrypoint,
                }
        return found

    def scheduled_runs(self, deployment: str) -> list[dict[str, Any]]:
        """The flow runs the server's scheduler has created for `deployment` ('flow/name')."""
        from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId

        with self.client() as client:
            flow_name, name = deployment.split("/", 1)
            target = client.read_deployment_by_name(f"{flow_name}/{name}")
            runs = client.read_flow_runs(
                deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[target.id])),
                limit=200,
            )
        return [
            {
                "id": str(r.id),
                "state": r.state.type.value if r.state else None,
                "expected_start_time": r.expected_start_time,
                "auto_scheduled": bool(r.auto_scheduled),
            }
            for r in runs
        ]

    def pause_schedules(self, deployment: str) -> None:
        """Pause every schedule of `deployment` and delete the runs already scheduled.

        For a stack that should run only what it is asked to (a test, a demo on a laptop).
        """
        with self.client() as client:
            target = client.read_deployment_by_name(deployment)
            for schedule in target.schedules:
                client.update_deployment_schedule(target.id, schedule.id, active=False)
        for run in self.scheduled_runs(deployment):
            if run["state"] == "SCHEDULED":
                with self.client() as client:
                    client.delete_flow_run(run["id"])

    def trigger(self, deployment: str, parameters: Mapping[str, Any] | None = None) -> str:
        """`prefect deployment run DEPLOYMENT --param k=v ...`; the new flow run's id."""
        args = ["deployment", "run", deployment]
        for key, value in (parameters or {}).items():
            args += ["--param", f"{key}={json.dumps(value)}"]
        output = self.prefect(*args)
        match = _UUID.search(output.split("UUID", 1)[-1]) or _UUID.search(output)
        if match is None:
            raise RecipeError(
                f"no flow run id in the output of `prefect deployment run`:\n{output}"
            )
        return match.group()

    def wait_for(self, flow_run_id: str, timeout: float = 300) -> RunOutcome:
        """Wait until the flow run is final; its state, result and `watchfloor-*` artifact."""
        deadline = time.monotonic() + timeout
        with self.client() as client:
            while True:
                run = client.read_flow_run(flow_run_id)
                if run.state is not None and run.state.is_final():
                    break
                if time.monotonic() > deadline:
                    state = run.state.type.value if run.state else "none"
                    raise RecipeError(
                        f"flow run {flow_run_id} still {state} after {timeout:.0f} s; worker "
                        f"log:\n{self.log_tail('worker-1')}"
                    )
                time.sleep(1)
            result = None
            if run.state.is_completed():
                result = run.state.result(raise_on_failure=False)
            artifact = _run_artifact(client, flow_run_id)
        return RunOutcome(flow_run_id, run.state.type.value, result, artifact)

    def stop(self) -> None:
        """Stop every process started here, with everything they started, newest first."""
        for proc in reversed(self.processes):
            stop_tree(proc)
        self.processes.clear()

    def __enter__(self) -> Stack:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _run_artifact(client: Any, flow_run_id: str) -> list[dict[str, Any]] | None:
    """The table artifact a Watchfloor flow run published, as rows."""
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    flt = ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id]))
    for artifact in client.read_artifacts(artifact_filter=flt):
        if (artifact.key or "").startswith("watchfloor-"):
            data = artifact.data
            return json.loads(data) if isinstance(data, str) else data
    return None


def descendants(pid: int) -> list[int]:
    """Every live process below `pid` (Linux /proc), deepest last."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, queue = [], [pid]
    while queue:
        for child in children.get(queue.pop(), []):
            found.append(child)
            queue.append(child)
    return found


def stop_tree(proc: subprocess.Popen[bytes], timeout: float = 20) -> None:
    """SIGTERM a process we started, its group and its descendants (a worker's flow runs may
    lead groups of their own); SIGKILL what is left after `timeout`."""
    below = descendants(proc.pid)
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, sig)
        for pid in below:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, sig)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            continue
        if not any(is_alive(pid) for pid in below):
            return
        time.sleep(1)


def is_alive(pid: int) -> bool:
    """Whether `pid` is a live process (not gone, not a zombie)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def set_up(stack: Stack) -> None:
    """Server, pool, deployments and one worker."""
    print(f"server on {stack.api_url} (state in {stack.home})", flush=True)
    stack.start_server()
    stack.create_pool()
    print(f"work pool {POOL!r} (process)", flush=True)
    stack.deploy_all()
    print("deployed: " + ", ".join(sorted(stack.deployments())), flush=True)
    stack.start_worker()
    print("worker started", flush=True)


def main(argv: list[str] | None = None) -> int:
    """`demo` (set up, run the replay deployment once, stop) or `up` (set up, keep running)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["demo", "up"])
    parser.add_argument("--port", type=int, default=0, help="server port (default: a free one)")
    parser.add_argument("--home", type=Path, help="PREFECT_HOME (default: a temporary folder)")
    parser.add_argument("--db", help="Watchfloor store for the workers (WATCHFLOOR_DATABASE_URL)")
    parser.add_argument("--prefect-db", help="Prefect's own database (default: SQLite in home)")
    args = parser.parse_args(argv)
    home = args.home or Path(tempfile.mkdtemp(prefix="watchfloor-prefect-server-"))
    try:
        return _run(args, home)
    finally:
        if args.home is None:  # a temporary home goes with the stack
            shutil.rmtree(home, ignore_errors=True)


def _run(args: argparse.Namespace, home: Path) -> int:
    """The stack of `main`, in `home`. Workers get this shell's WATCHFLOOR_* settings, with
    --db on top."""
    worker_env = {k: v for k, v in os.environ.items() if k.startswith("WATCHFLOOR_")}
    if args.db:
        worker_env["WATCHFLOOR_DATABASE_URL"] = args.db
    with Stack(home, args.port, prefect_db_url=args.prefect_db, watchfloor_env=worker_env) as stack:
        set_up(stack)
        if args.command == "up":
            print("running; Ctrl-C stops the worker and the server", flush=True)
            with contextlib.suppress(KeyboardInterrupt):
                while all(p.poll() is None for p in stack.processes):
                    time.sleep(1)
            return 0
        # The store's URL reaches the run through the worker's environment: never a parameter.
        outcome = stack.wait_for(stack.trigger("replay/replay", {}))
        print(f"flow run {outcome.flow_run_id}: {outcome.state}")
        if outcome.result is not None:
            print(json.dumps(outcome.result.replay_json(), indent=2, ensure_ascii=False))
        return 0 if outcome.state == "COMPLETED" else 1


if __name__ == "__main__":
    sys.exit(main())
