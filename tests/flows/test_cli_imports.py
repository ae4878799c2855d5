"""Commands load what they use: `--help` and `detect` no store, and the commands that only read
the store (or find it at the schema's head) neither Alembic nor Prefect, whose imports cost
each start ~0.1 s and ~1 s of CPU. The commands run, through typer's runner, in one fresh
interpreter, which then lists the packages it has loaded."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from db import create_engine_for, upgrade
from tests.clikit import run_captured

RUN_AND_LIST_PACKAGES = """
import json, sys
from typer.testing import CliRunner
from flows.cli.app import app

loaded = []
for args in map(json.loads, sys.argv[1:]):
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, (args, result.output)
    loaded.append(sorted({name.partition(".")[0] for name in sys.modules}))
print(json.dumps(loaded))
"""


def test_commands_that_do_not_migrate_or_run_flows_load_neither_alembic_nor_prefect(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    engine = create_engine_for(url)
    upgrade(engine)
    engine.dispose()
    articles = tmp_path / "articles.jsonl"
    articles.write_text(json.dumps({"id": "a1", "title": "t", "text": "North Korea"}) + "\n")
    commands = [
        ["--help"],
        ["detect", str(articles)],
        ["developments", "--db", url],
        ["alerts", "list", "--db", url],
        ["db", "upgrade", "--db", url],
    ]
    result = run_captured(
        [sys.executable, "-c", RUN_AND_LIST_PACKAGES, *map(json.dumps, commands)],
        cwd=tmp_path,
        env={**os.environ, "PREFECT_HOME": str(tmp_path / ".prefect")},
    )
    assert result.returncode == 0, result.stderr
    for command, packages in zip(commands, json.loads(result.stdout), strict=True):
        store_free = command[0] in ("--help", "detect")
        assert ("sqlalchemy" in packages) is not store_free, command
        assert not {"alembic", "prefect"} & set(packages), command
