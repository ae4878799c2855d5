"""`watchfloor sources kinds`: every source kind with the key that names its location and the
options a sources file may set, as a table and as JSON."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from flows.cli.app import app


def test_kinds_as_json_and_as_a_table() -> None:
    result = CliRunner().invoke(app, ["sources", "kinds", "--json"])
    assert result.exit_code == 0, result.output
    kinds = {row["kind"]: row for row in json.loads(result.stdout)}
    assert {k: row["location_key"] for k, row in kinds.items()} == {
        "rss": "url",
        "seedfiles": "path",
    }
    retries = next(o for o in kinds["rss"]["options"] if o["name"] == "retries")
    assert retries == {"name": "retries", "type": "a whole number >= 0", "default": 2}
    assert "newest_date" not in {o["name"] for o in kinds["seedfiles"]["options"]}

    table = CliRunner().invoke(app, ["sources", "kinds"])
    assert table.exit_code == 0, table.output
    for name in ("rss", "seedfiles", "total_timeout_s = 60.0", "keep_original = true"):
        assert name in table.stdout
