"""A replay is read and stored in chunks (memory that does not grow with its size); the chunks
give exactly what one pass over every file gives: the same developments, evidence and alerts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import flows.runs.replayplan
from flows.replay import replay_flow
from tests.conftest import SEEDS, store_env

pytestmark = pytest.mark.usefixtures("prefect_harness")

CORPUS = Path(__file__).parents[1] / "data" / "corpus" / "articles.jsonl"


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """120 corpus texts as seed files (dated where the corpus is, so some read undated and take
    the replay clock), and the seeds, whose datelines have no year."""
    folder = tmp_path_factory.mktemp("replay")
    for line in CORPUS.read_text(encoding="utf-8").splitlines()[:120]:
        item = json.loads(line)
        header = f"date: {item['published'][:10]}\n" if item.get("published") else ""
        title = item["title"] or item["text"].split("\n", 1)[0][:120]
        text = f"{header}{title}\n\n{item['text']}\n"
        (folder / f"{item['id']}.txt").write_text(text, encoding="utf-8")
    for seed in sorted(SEEDS.glob("*.txt")):
        (folder / seed.name).write_bytes(seed.read_bytes())
    return folder


def replay(url: str, folder: Path) -> Any:
    with store_env(url):
        return replay_flow(paths=[str(folder)])


def test_chunks_replay_exactly_as_one_pass(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole = replay(f"sqlite:///{tmp_path / 'whole.db'}", folder)
    monkeypatch.setattr(flows.runs.replayplan, "REPLAY_CHUNK_FILES", 9)
    chunked = replay(f"sqlite:///{tmp_path / 'chunked.db'}", folder)
    assert whole.articles == chunked.articles == 125
    assert whole.developments and chunked.replay_json() == whole.replay_json()
    assert whole.alerts_sent == chunked.alerts_sent > 0
    # the source is one line however many chunks read it
    [line] = chunked.sources
    assert (line.name, line.status, line.items, line.new_items) == ("replay", "ok", 125, 125)
    assert line.url == str(folder)
