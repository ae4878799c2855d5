"""Keyed log lines: one per source outcome and one per stage summary, in logfmt that parses back
to the values whatever the text (source names and errors are outside data)."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flows.stages.keyed import keyed
from tests.adapters.feedserver import FeedServer
from tests.adapters.monitorkit import Src, add_feeds, run_monitor, write_sources
from tests.conftest import store_env

PAIR = re.compile(r' (\w+)=("(?:[^"\\]|\\.)*"|[^ "]+)')


def parse(line: str) -> tuple[str, dict[str, str]]:
    """A logfmt line back into (event, {key: value}); fails on anything it cannot account for."""
    event, _, rest = line.partition(" ")
    fields, end = {}, 0
    for match in PAIR.finditer(" " + rest):
        assert match.start() == end, f"unparsed text in {line!r}"
        value = match.group(2)
        if value.startswith('"'):
            value = re.sub(
                r"\\(u[0-9a-f]{4}|U[0-9a-f]{8}|.)",
                lambda m: _unescape(m.group(1)),
                value[1:-1],
            )
        fields[match.group(1)] = value
        end = match.end()
    assert end == (len(rest) + 1 if rest else 0), f"unparsed tail in {line!r}"
    return event, fields


def _unescape(code: str) -> str:
    if code[0] in "uU" and len(code) > 1:
        return chr(int(code[1:], 16))
    return {"n": "\n"}.get(code, code)


def test_plain_words_stay_bare_and_the_rest_is_quoted() -> None:
    line = keyed("source", name="Yonhap NK", status="ok", http=200, items=3, error=None, t=1.5)
    assert line == 'source name="Yonhap NK" status=ok http=200 items=3 t=1.500'
    assert keyed("x", e='say "hi"\n\\') == r'x e="say \"hi\"\n\\"'
    assert keyed("x", e="") == 'x e=""'


@given(st.text(), st.text(alphabet=st.characters(codec="utf-8"), max_size=50))
def test_any_value_is_one_line_that_parses_back(name: str, error: str) -> None:
    line = keyed("source", name=name, error=error, n=3)
    assert all(ch.isprintable() or ch == " " for ch in line)  # one line, no control character
    event, fields = parse(line)
    assert (event, fields) == ("source", {"name": name, "error": error, "n": "3"})


@pytest.fixture(scope="module")
def server() -> Iterator[FeedServer]:
    feeds = FeedServer().start()
    add_feeds(feeds, ["alpha", "beta"], count=2)
    yield feeds
    feeds.close()


@pytest.mark.usefixtures("prefect_harness")
def test_a_cycle_logs_each_source_and_each_stage_once(
    server: FeedServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    sources = [Src("alpha", "/feed/alpha.xml"), Src("beta", "/feed/beta.xml")]
    sources.append(Src('gone "feed"', "/status/404"))
    path = write_sources(tmp_path / "sources.yaml", server, sources)
    caplog.set_level(logging.INFO)
    with store_env(f"sqlite:///{tmp_path / 'store.db'}"):
        run_monitor(sources_file=str(path))
    lines = [
        parse(r.getMessage())
        for r in caplog.records
        if r.getMessage().startswith(("source ", "stage "))
    ]
    by_source = {f["name"]: f for event, f in lines if event == "source"}
    assert sorted(by_source) == ["alpha", "beta", 'gone "feed"']
    assert by_source["alpha"]["status"] == "ok" and by_source["alpha"]["new"] == "2"
    gone = by_source['gone "feed"']
    assert (gone["status"], gone["http"], gone["transient"]) == ("error", "404", "False")
    assert "HTTP 404" in gone["error"]
    stages = [f for event, f in lines if event == "stage"]
    assert sorted(f["name"] for f in stages) == ["detect", "ingest", "send"]
    ingest = next(f for f in stages if f["name"] == "ingest")
    assert (ingest["sources"], ingest["ok"], ingest["error"]) == ("3", "2", "1")
    assert (ingest["articles"], ingest["new"]) == ("4", "4")
    detect = next(f for f in stages if f["name"] == "detect")
    assert detect["articles"] == "4"
