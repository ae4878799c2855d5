"""`serve` starts its flow runs as forks of a warm process (flows.serving.forkruns): a run finds
Prefect, the flow's modules and the compiled rules already loaded, and compiles rules again
only when their files changed. Real Prefect flow runs in real child processes."""

from __future__ import annotations

import gc
import json
import logging
import multiprocessing
import os
import sys
from pathlib import Path

import pytest
from prefect import flow

from flows.serving.forkruns import runs_forked_from_a_warm_process

pytestmark = pytest.mark.usefixtures("prefect_harness")


class _Compilations(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += record.getMessage().startswith("compiled ")


@flow
def describe_run_process(report: str, rules_dir: str) -> None:
    """Write down what the run's process had loaded before the run (the warm-up, the sources
    file's parse, the TLS contexts of fetch and of Prefect's clients), whether the warm-up's
    objects were out of the garbage collector's sight, and whether loading the rules compiled
    them."""
    from adapters.net.context import _ssl_context
    from flows.context.config import load_versioned_ruleset

    preloaded = "flows.serving.warm" in sys.modules
    # The warm-up's parse of the sources file, inherited by the fork.
    sources_parsed = "flows.context.sourcesfile" in sys.modules and bool(
        sys.modules["flows.context.sourcesfile"]._parsed_specs
    )
    compilations = _Compilations()
    logging.getLogger("flows.context.config").addHandler(compilations)
    logging.getLogger("flows.context.config").setLevel(logging.INFO)
    load_versioned_ruleset(Path(rules_dir))
    facts = {
        "preloaded": preloaded,
        "sources_parsed": sources_parsed,
        "compiled": compilations.count,
        "parent": os.getppid(),
        # Built in the warm-up: fetch's (Prefect's clients have theirs, below).
        "tls_contexts": _ssl_context.cache_info().currsize,
        # Prefect's clients take the context the warm-up built (flows.serving.warm).
        "prefect_context_shared": preloaded and _prefect_clients_share_the_warm_context(),
        "frozen": gc.get_freeze_count() > 0,
        "numpy_loaded": "core.simhashes" in sys.modules and "numpy" in sys.modules,
        "parent_threads": sum(1 for _ in Path(f"/proc/{os.getppid()}/task").iterdir()),
    }
    Path(report).write_text(json.dumps(facts), encoding="utf-8")


def _prefect_clients_share_the_warm_context() -> bool:
    """Whether new clients of the run's Prefect API, sync and async, hold the TLS context the
    warm-up built before the fork, and none was built for them."""
    import certifi
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_SSL_CERT_FILE

    from flows.prefectapi.tls import verified_context

    built_before = verified_context.cache_info().currsize
    clients = (get_client(sync_client=True), get_client())
    contexts = {id(c._client._transport._pool._ssl_context) for c in clients}  # type: ignore[union-attr]
    warm = verified_context(PREFECT_API_SSL_CERT_FILE.value() or certifi.where())
    return built_before == verified_context.cache_info().currsize == 1 and contexts == {id(warm)}


def run_in_child(tmp_path: Path, rules_dir: Path, name: str) -> dict[str, object]:
    import prefect.flow_engine

    report = tmp_path / f"{name}.json"
    process = prefect.flow_engine.run_flow_in_subprocess(
        describe_run_process, parameters={"report": str(report), "rules_dir": str(rules_dir)}
    )
    process.join(timeout=300)
    assert process.exitcode == 0
    return json.loads(report.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def copy_rules(source: Path, target: Path) -> Path:
    for path in source.rglob("*.y*ml"):
        destination = target / path.relative_to(source)
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_bytes(path.read_bytes())
    return target


def test_runs_are_forked_warm_and_compile_rules_only_when_they_change(tmp_path: Path) -> None:
    from tests.conftest import ROOT

    rules = copy_rules(ROOT / "rules", tmp_path / "rules")
    warm_up = {
        "WATCHFLOOR_RULES_DIR": str(rules),
        "WATCHFLOOR_SOURCES_FILE": str(ROOT / "deploy" / "sources.yaml"),
    }
    with runs_forked_from_a_warm_process(warm_up):
        first = run_in_child(tmp_path, rules, "first")
        second = run_in_child(tmp_path, rules, "second")
        edited = next(p for p in sorted(rules.rglob("*.yaml")) if "entities" not in str(p))
        edited.write_text(edited.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
        after_edit = run_in_child(tmp_path, rules, "after_edit")

    for facts in (first, second, after_edit):
        assert facts["preloaded"] is True
        assert facts["sources_parsed"] is True
        assert facts["parent"] != os.getpid(), "a fork of the forkserver, not of this process"
        assert facts["tls_contexts"] == 1 and facts["frozen"] is True
        assert facts["prefect_context_shared"] is True
        assert facts["numpy_loaded"] is True, "the store's SimHash, imported once"
        assert facts["parent_threads"] == 1, "the forkserver runs no threads (OpenBLAS's none)"
    assert (first["compiled"], second["compiled"]) == (0, 0)
    assert after_edit["compiled"] == 1
    assert "WATCHFLOOR_RULES_DIR" not in os.environ, "the warm-up's variables are given back"


def test_after_serving_runs_are_spawned_again(tmp_path: Path) -> None:
    import prefect.flow_engine

    with runs_forked_from_a_warm_process({}):
        assert prefect.flow_engine.multiprocessing is not multiprocessing
    assert prefect.flow_engine.multiprocessing is multiprocessing
    process = prefect.flow_engine.run_flow_in_subprocess(
        describe_run_process,
        parameters={"report": str(tmp_path / "spawned.json"), "rules_dir": "rules"},
    )
    process.join(timeout=300)
    facts = json.loads((tmp_path / "spawned.json").read_text(encoding="utf-8"))
    assert facts["preloaded"] is False
    assert facts["sources_parsed"] is False
    assert facts["parent"] == os.getpid()
    assert facts["frozen"] is False
