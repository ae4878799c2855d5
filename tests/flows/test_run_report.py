"""A run's report: its source lines read as a sequence, render as before, and are not walked by
Prefect at the end of a flow run."""

from __future__ import annotations

from typing import Any

from prefect.utilities.collections import visit_collection

from flows.stages.report import RunReport, SourceLine, SourceLines

LINES = [
    SourceLine("alpha", "https://a.example/rss", "not_modified", 304, 0, 0, None),
    SourceLine("beta", "https://b.example/rss", "error", 503, 0, 0, "HTTP 503"),
]


def _report(lines: SourceLines) -> RunReport:
    return RunReport(articles=0, new_articles=0, developments=[], alerts_sent=0, sources=lines)


def test_source_lines_read_as_the_list_they_were_given() -> None:
    lines = SourceLines(iter(LINES))
    assert lines == LINES and lines != LINES[:1]
    assert LINES.__eq__(lines) is NotImplemented  # so `LINES == lines` asks SourceLines
    assert len(lines) == 2 and lines[1].name == "beta" and list(lines[:1]) == LINES[:1]
    assert [line.status for line in lines] == ["not_modified", "error"]
    assert SourceLines() == [] and not SourceLines()


def test_the_run_json_lists_each_source_line_in_order() -> None:
    sources = _report(SourceLines(LINES)).run_json()["sources"]
    assert [s["name"] for s in sources] == ["alpha", "beta"]
    assert sources[1] == {
        "name": "beta",
        "url": "https://b.example/rss",
        "status": "error",
        "http_status": 503,
        "items": 0,
        "new_items": 0,
        "error": "HTTP 503",
    }


def test_prefect_does_not_walk_the_source_lines_of_a_returned_report() -> None:
    """What Prefect does with a flow's return value: every object it visits costs CPU."""
    visited: list[Any] = []
    visit_collection(_report(SourceLines(LINES * 500)), visited.append)
    assert not any(isinstance(item, SourceLine) for item in visited)
    assert len(visited) < 50
