"""Every registered adapter keeps the SourceAdapter contract, on good and on broken sources,
and its cursor: JSON, kept as it is by a real store, accepted back, and never a crash when it is
not the kind's own.

A new kind must add its examples to EXAMPLES; the first test fails until it does.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from adapters import FetchContext, SourceAdapter, get_adapter, kinds
from core.cursor import Cursor
from core.model import FetchResult, SourceSpec, SourceState
from db import create_engine_for, record_fetches, register_sources, upgrade, upsert_sources
from tests.adapters.adapterkit import SEEDS, rss_spec
from tests.adapters.feedserver import FeedServer

SpecMaker = Callable[[FeedServer, Path], SourceSpec]


def _seedfiles_bad(server: FeedServer, tmp: Path) -> SourceSpec:
    (tmp / "bad.txt").write_bytes(b"\xff\xfe broken")
    return SourceSpec("bad", "seedfiles", str(tmp))


def _served(server: FeedServer, name: str, body: bytes) -> str:
    """The URL of `body`, served by the test server as `name` (its suffix sets the type)."""
    server.files[name] = body
    return server.url(f"/feed/{name}")


# kind -> (sources that work, sources that fail in every way we can think of)
EXAMPLES: dict[str, tuple[list[SpecMaker], list[SpecMaker]]] = {
    "rss": (
        [
            lambda s, t: rss_spec("rss", s.url("/feed/rss2_korea.xml")),
            lambda s, t: rss_spec("atom", s.url("/feed/atom_japan.xml")),
            lambda s, t: rss_spec("rdf", s.url("/feed/rdf_taiwan.xml")),
            lambda s, t: rss_spec("sjis", s.url("/raw/shift_jis_nodecl.xml?ct=none")),
            lambda s, t: rss_spec("jsonfeed11", s.url("/feed/jsonfeed11_korea.json")),
            lambda s, t: rss_spec(
                "jsonfeed10", s.url("/feed/jsonfeed10_japan.json?ct=application/json")
            ),
        ],
        [
            lambda s, t: rss_spec("404", s.url("/status/404")),
            lambda s, t: rss_spec("reset", s.url("/reset"), retries=0),
            lambda s, t: rss_spec("html", s.url("/feed/page.html")),
            lambda s, t: rss_spec("refused", "http://127.0.0.1:1/x", retries=0),
            lambda s, t: rss_spec("metadata", "http://169.254.169.254/latest/meta-data/"),
            lambda s, t: rss_spec("private", "http://10.0.0.1/feed.xml"),
            lambda s, t: SourceSpec("not-a-url", "rss", "not a url at all"),
            lambda s, t: SourceSpec("file-url", "rss", "file:///etc/passwd"),
            lambda s, t: SourceSpec("bad-options", "rss", s.url("/feed/x"), options={"x": 1}),
            lambda s, t: rss_spec("huge", s.url("/big/900000"), max_bytes=1000),
            lambda s, t: rss_spec("not-json", _served(s, "bad.json", b'{"version": "https://')),
            lambda s, t: rss_spec("json-not-feed", _served(s, "data.json", b'{"data": [1]}')),
            lambda s, t: rss_spec(
                "json-items-not-list",
                _served(
                    s, "obj.json", b'{"version": "https://jsonfeed.org/version/1.1", "items": 1}'
                ),
            ),
        ],
    ),
    "seedfiles": (
        [
            lambda s, t: SourceSpec("seeds", "seedfiles", str(SEEDS)),
            lambda s, t: SourceSpec("one", "seedfiles", str(SEEDS / "001_6f956d4206d20137.txt")),
        ],
        [
            lambda s, t: SourceSpec("missing", "seedfiles", str(t / "missing")),
            _seedfiles_bad,
            lambda s, t: SourceSpec("bad-options", "seedfiles", str(SEEDS), options={"x": 1}),
        ],
    ),
}


def test_every_registered_kind_has_contract_examples() -> None:
    assert set(kinds()) == set(EXAMPLES)


def check_result(result: object, spec: SourceSpec) -> FetchResult:
    assert isinstance(result, FetchResult)
    assert result.source == spec.name
    assert result.status in ("ok", "not_modified", "unchanged", "error")
    assert result.cursor is None or isinstance(result.cursor, Cursor)
    if result.cursor is not None:
        assert json.loads(json.dumps(result.cursor.to_json())) == result.cursor.to_json()
    for article in result.articles:
        assert article.source == spec.name
        assert article.guid and isinstance(article.guid, str)
        assert article.title and isinstance(article.title, str)
        assert isinstance(article.text, str)
        assert article.published is None or (
            isinstance(article.published, datetime) and article.published.utcoffset() is not None
        )
        json.dumps(dict(article.raw))
    guids = [a.guid for a in result.articles]
    assert len(guids) == len(set(guids))
    return result


# Not any kind's cursor: keys and values none of them writes, and one of each JSON type.
FOREIGN_CURSOR = Cursor(
    {"etag": 1, "body_hash": ["x"], "feed_ttl_s": "soon", "position": {"page": None, "n": 2.5}}
)


@pytest.mark.parametrize("kind", sorted(EXAMPLES))
def test_adapter_contract(
    kind: str, server: FeedServer, local: FetchContext, tmp_path: Path, sqlite_url: str
) -> None:
    adapter = get_adapter(kind, local)
    assert isinstance(adapter, SourceAdapter) and adapter.kind == kind
    good, bad = EXAMPLES[kind]
    for make in good:
        spec = make(server, tmp_path)
        result = check_result(adapter.fetch(spec, SourceState()), spec)
        assert result.status == "ok" and result.articles and result.error is None, result
        # Fetching again with the state the store kept never yields the same items twice.
        stored = stored_state(sqlite_url, spec, result)
        again = check_result(adapter.fetch(spec, stored), spec)
        assert again.status in ("not_modified", "unchanged"), again
        # A cursor that is not the kind's own is a full fetch, never a crash.
        foreign = check_result(adapter.fetch(spec, SourceState(FOREIGN_CURSOR)), spec)
        assert foreign.status == "ok" and len(foreign.articles) == len(result.articles), foreign
    for make in bad:
        spec = make(server, tmp_path)
        for state in (SourceState(), SourceState(FOREIGN_CURSOR)):
            result = check_result(adapter.fetch(spec, state), spec)  # never raises
            assert result.status == "error" and result.error, result
            assert isinstance(result.transient, bool)


def stored_state(database_url: str, spec: SourceSpec, result: FetchResult) -> SourceState:
    """The state a real SQLite store hands back after recording `result`: its cursor must
    come back exactly as the kind returned it."""
    assert result.cursor is not None, f"{spec.name}: a successful fetch returned no cursor"
    engine = create_engine_for(database_url)
    try:
        upgrade(engine)
        with Session(engine) as session, session.begin():
            upsert_sources(session, [spec])
            record_fetches(session, [result], datetime.now(UTC), {})
        with Session(engine) as session, session.begin():  # as the next run reads it
            state = register_sources(session, [spec]).states[spec.name]
    finally:
        engine.dispose()
    assert state.cursor.to_json() == result.cursor.to_json()
    return state
