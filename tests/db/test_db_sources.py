"""Sources: upsert, each kind's cursor, health with backoff that grows on failure and recovers,
and when a source is due (a healthy one slightly early, a failing one only after its whole
backoff)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from dbtestkit import T0, article, at, spec
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from core.cursor import Cursor
from core.model import FetchResult, SourceSpec, SourceState
from db import (
    due_source_names,
    failure_delay_s,
    record_fetches,
    register_sources,
    source_health,
    upsert_sources,
)
from db.models import sources
from db.sources import (
    DUE_SLACK_FRACTION,
    DUE_SLACK_MAX_S,
    DUE_SLACK_MIN_S,
    MAX_BACKOFF_S,
    poll_opens_at,
)

INTERVAL = {"alpha": 600, "beta": 300}


def _fail(name: str, *, status: int | None = 503, retry_after: float | None = None) -> FetchResult:
    return FetchResult(
        source=name,
        status="error",
        http_status=status,
        error=f"HTTP {status}",
        transient=True,
        retry_after_s=retry_after,
    )


def _ok(name: str, etag: str | None = '"v1"', n: int = 2) -> FetchResult:
    return FetchResult(
        source=name,
        status="ok",
        http_status=200,
        articles=tuple(article(name, i) for i in range(n)),
        cursor=Cursor({"etag": etag, "last_modified": "Wed, 28 Jan 2026 09:00:00 GMT"}),
    )


def _cursor(session: Session, name: str) -> dict[str, object]:
    return _stored_states(session, [name])[name].cursor.to_json()


def _stored_states(session: Session, names: list[str]) -> dict[str, SourceState]:
    """Each named source's cursor as the store holds it (read here, not through `db`)."""
    query = select(sources.c.name, sources.c.cursor).where(sources.c.name.in_(names))
    stored = {
        name: SourceState(Cursor.from_json(cursor)) for name, cursor in session.execute(query)
    }
    return {name: stored.get(name, SourceState()) for name in names}


def test_upsert_returns_ids_and_updates_in_place(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        ids = upsert_sources(session, [spec("alpha"), spec("beta")])
        record_fetches(session, [_ok("alpha")], T0, INTERVAL)
    moved = SourceSpec(name="alpha", kind="rss", location="https://new.example/rss", tags=("x",))
    with sessions.begin() as session:
        again = upsert_sources(session, [moved, spec("beta"), spec("gamma")])
    assert again["alpha"] == ids["alpha"] and again["beta"] == ids["beta"]
    assert set(again) == {"alpha", "beta", "gamma"}
    with sessions() as session:
        health = {h.name: h for h in source_health(session)}
    assert health["alpha"].location == "https://new.example/rss"
    assert health["alpha"].tags == ("x",)
    assert health["alpha"].items_seen == 2  # health survives a config change


def test_an_unchanged_upsert_keeps_ids_and_a_tags_change_alone_is_written(
    sessions: sessionmaker[Session],
) -> None:
    """Re-upserting the sources as stored (every cycle of an unchanged sources file) returns
    the same ids; a change of tags alone is still written."""
    with sessions.begin() as session:
        ids = upsert_sources(session, [spec("alpha"), spec("beta")])
    with sessions.begin() as session:
        assert upsert_sources(session, [spec("alpha"), spec("beta")]) == ids
    retagged = replace(spec("beta"), tags=("region:japan",))
    with sessions.begin() as session:
        assert upsert_sources(session, [spec("alpha"), retagged]) == ids
    with sessions() as session:
        health = {h.name: h for h in source_health(session)}
    assert health["beta"].tags == ("region:japan",)
    assert health["alpha"].tags == spec("alpha").tags


def test_cursors_round_trip_any_json(sessions: sessionmaker[Session]) -> None:
    """The store keeps a kind's cursor as it was returned, whatever its shape: nested objects,
    arrays, numbers, booleans, null and non-ASCII text come back equal."""
    cursor = {
        "position": {"file": "déjà vu.txt", "offset": 12_345, "done": False},
        "seen": ["a", 1, 2.5, None, True, {"k": []}],
        "etag": '"v1"',
    }
    with sessions.begin() as session:
        upsert_sources(session, [spec("alpha"), spec("beta")])
        record_fetches(session, [FetchResult("alpha", "ok", cursor=Cursor(cursor))], T0, INTERVAL)
    with sessions.begin() as session:  # as the next run reads them
        states = register_sources(session, [spec("alpha"), spec("beta"), spec("unknown")]).states
    assert states["alpha"].cursor.to_json() == cursor
    assert states["alpha"] == SourceState(Cursor(cursor))
    assert states["beta"] == SourceState() and states["unknown"] == SourceState()


def test_a_stored_cursor_that_is_no_json_object_reads_as_empty(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as session:
        upsert_sources(session, [spec("alpha"), spec("beta")])
        session.execute(update(sources).where(sources.c.name == "alpha").values(cursor=[1, 2]))
        session.execute(update(sources).where(sources.c.name == "beta").values(cursor="text"))
    with sessions.begin() as session:
        states = register_sources(session, [spec("alpha"), spec("beta")]).states
    assert states == {"alpha": SourceState(), "beta": SourceState()}


def test_a_result_without_a_cursor_keeps_the_stored_one(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        upsert_sources(session, [spec("alpha")])
        record_fetches(session, [_ok("alpha")], T0, INTERVAL)
        not_modified = FetchResult(source="alpha", status="not_modified", http_status=304)
        record_fetches(session, [not_modified], at(600), INTERVAL)
        assert _cursor(session, "alpha")["etag"] == '"v1"'
        [health] = source_health(session)
    assert health.last_status == "not_modified" and health.http_status == 304
    assert health.next_due_at == at(1200)


def test_a_new_cursor_replaces_the_stored_one_whole_and_the_interval_sets_the_next_poll(
    sessions: sessionmaker[Session],
) -> None:
    """The store merges nothing: a key the kind left out of its new cursor is gone."""
    with sessions.begin() as session:
        upsert_sources(session, [spec("alpha")])
        full = FetchResult("alpha", "ok", cursor=Cursor({"body_hash": "h1", "feed_ttl_s": 2700}))
        record_fetches(session, [full], T0, {"alpha": 1200})
        assert _cursor(session, "alpha") == {"body_hash": "h1", "feed_ttl_s": 2700}
        assert source_health(session)[0].next_due_at == at(1200)
        unchanged = FetchResult("alpha", "unchanged", cursor=Cursor({"body_hash": "h1"}))
        record_fetches(session, [unchanged], at(1200), {"alpha": 900})
        assert _cursor(session, "alpha") == {"body_hash": "h1"}
        assert source_health(session)[0].next_due_at == at(2100)


def test_errors_never_move_the_cursor(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        upsert_sources(session, [spec("alpha")])
        record_fetches(session, [_ok("alpha")], T0, INTERVAL)
        record_fetches(session, [_fail("alpha")], at(600), INTERVAL)
        failed = FetchResult("alpha", "error", error="x", cursor=Cursor({"etag": '"v2"'}))
        record_fetches(session, [failed], at(1200), INTERVAL)
        assert _cursor(session, "alpha")["etag"] == '"v1"'


def test_a_change_of_kind_forgets_the_cursor_a_change_of_location_does_not(
    sessions: sessionmaker[Session],
) -> None:
    """The cursor is the kind's alone: another kind must not be handed it."""
    with sessions.begin() as session:
        upsert_sources(session, [spec("alpha"), spec("beta")])
        record_fetches(session, [_ok("alpha"), _ok("beta")], T0, INTERVAL)
    moved = SourceSpec(name="alpha", kind="rss", location="https://new.example/rss")
    files = SourceSpec(name="beta", kind="seedfiles", location="/srv/seeds")
    with sessions.begin() as session:
        upsert_sources(session, [moved, files])
    with sessions() as session:
        assert _cursor(session, "alpha")["etag"] == '"v1"'
        assert _cursor(session, "beta") == {}
        assert {h.name: h.items_seen for h in source_health(session)} == {"alpha": 2, "beta": 2}


def test_registering_reads_each_sources_id_and_cursor_as_the_fetch_needs_it(
    sessions: sessionmaker[Session],
) -> None:
    """One read for a batch: the cursor handed to the fetch is the one stored after the upsert
    (a changed kind's is gone), and the ids are the upsert's."""
    with sessions.begin() as session:
        ids = upsert_sources(session, [spec("alpha"), spec("beta")])
        record_fetches(session, [_ok("alpha"), _ok("beta")], T0, INTERVAL)
    files = SourceSpec(name="beta", kind="seedfiles", location="/srv/seeds")
    with sessions.begin() as session:
        registered = register_sources(session, [spec("alpha"), files, spec("gamma")])
        stored = _stored_states(session, ["alpha", "beta", "gamma"])
    assert registered.states == stored
    assert registered.states["alpha"].cursor.to_json()["etag"] == '"v1"'
    assert registered.states["beta"] == registered.states["gamma"] == SourceState()
    assert {name: registered.ids[name] for name in ids} == ids and "gamma" in registered.ids


def test_recording_with_the_registered_ids_keeps_counts_cursors_and_failures(
    sessions: sessionmaker[Session],
) -> None:
    """A batch of successes is written without reading the rows: counts still add up, a result
    without a cursor keeps the stored one; a batch with a failure still counts it."""
    with sessions.begin() as session:
        ids = register_sources(session, [spec("alpha"), spec("beta")]).ids
        record_fetches(session, [_ok("alpha"), _ok("beta", n=3)], T0, INTERVAL, ids)
        not_modified = FetchResult(source="alpha", status="not_modified", http_status=304)
        record_fetches(session, [not_modified, _ok("beta", '"v2"', n=1)], at(600), INTERVAL, ids)
        record_fetches(session, [_fail("alpha"), _ok("beta", n=0)], at(1200), INTERVAL, ids)
        health = {h.name: h for h in source_health(session)}
        assert _cursor(session, "alpha")["etag"] == '"v1"'
        assert _cursor(session, "beta")["etag"] == '"v1"'
    assert (health["alpha"].items_seen, health["beta"].items_seen) == (2, 4)
    assert health["alpha"].consecutive_failures == 1 and health["alpha"].last_success_at == at(600)
    assert health["beta"].last_success_at == at(1200) and health["beta"].next_due_at == at(1500)
    with sessions.begin() as session, pytest.raises(ValueError, match="nobody"):
        record_fetches(session, [_ok("nobody")], T0, INTERVAL, ids)


def test_a_batch_of_the_same_outcome_writes_every_row_as_a_batch_of_different_ones(
    sessions: sessionmaker[Session],
) -> None:
    """A no-change cycle's batch (every source the same outcome and interval) is one statement
    per chunk of ids; each row still gets its own health, keeps its own cursor and count, and a
    batch that differs anywhere (an interval, a cursor) is written row by row as before."""
    names = [f"feed-{i:03d}" for i in range(950)]  # two chunks of ids (db._sql.IN_CHUNK)
    same = dict.fromkeys(names, 600)
    with sessions.begin() as session:
        ids = register_sources(session, [spec(name) for name in names]).ids
        firsts = [_ok(name, f'"{name}"', n=i % 3) for i, name in enumerate(names)]
        record_fetches(session, firsts, T0, same, ids)
        unchanged = [
            FetchResult(name, "not_modified", http_status=304, problems=("slow answer",))
            for name in names
        ]
        record_fetches(session, unchanged, at(600), same, ids)
        health = {h.name: h for h in source_health(session)}
        cursors = {name: _cursor(session, name)["etag"] for name in names}
    for i, name in enumerate(names):
        row = health[name]
        assert (row.last_status, row.http_status, row.last_error) == (
            "not_modified",
            304,
            "slow answer",
        )
        assert (row.last_success_at, row.next_due_at) == (at(600), at(1200))
        assert (row.items_seen, row.consecutive_failures) == (i % 3, 0)
        assert cursors[name] == f'"{name}"'
    # One interval apart: row by row, each its own next poll.
    mixed = same | {names[0]: 300}
    with sessions.begin() as session:
        record_fetches(session, [replace(r, problems=()) for r in unchanged], at(1200), mixed, ids)
        health = {h.name: h for h in source_health(session)}
    assert health[names[0]].next_due_at == at(1500) and health[names[1]].next_due_at == at(1800)
    assert {h.last_error for h in health.values()} == {None}


def test_backoff_grows_with_failures_then_recovers(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        upsert_sources(session, [spec("alpha")])
    delays = []
    now = T0
    for _ in range(6):
        with sessions.begin() as session:
            record_fetches(session, [_fail("alpha")], now, INTERVAL)
            [health] = source_health(session)
        assert health.next_due_at is not None
        delays.append(health.next_due_at - now)
        now = health.next_due_at
    assert delays == [timedelta(seconds=600 * 2**i) for i in range(6)]
    assert health.consecutive_failures == 6 and not health.healthy
    assert health.last_error == "HTTP 503" and health.last_success_at is None
    with sessions.begin() as session:
        assert due_source_names(session, ["alpha"], now - timedelta(seconds=1)) == []
        assert due_source_names(session, ["alpha"], now) == ["alpha"]  # never disabled
        record_fetches(session, [_ok("alpha")], now, INTERVAL)
        [health] = source_health(session)
    assert health.healthy and health.consecutive_failures == 0
    assert health.last_error is None and health.last_success_at == now
    assert health.next_due_at == now + timedelta(seconds=600)


def test_backoff_is_capped_and_honours_retry_after(sessions: sessionmaker[Session]) -> None:
    assert failure_delay_s(600, 30) == 24 * 3600
    assert failure_delay_s(600, 1, retry_after_s=3600) == 3600
    assert failure_delay_s(600, 3, retry_after_s=10) == 2400  # Retry-After never shortens it
    assert failure_delay_s(600, 1, retry_after_s=10**9) == 24 * 3600
    with sessions.begin() as session:
        upsert_sources(session, [spec("alpha")])
        record_fetches(session, [_fail("alpha", status=429, retry_after=7200)], T0, INTERVAL)
        [health] = source_health(session)
    assert health.next_due_at == at(7200) and health.http_status == 429


def test_due_source_names_keeps_order_and_includes_new_sources(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as session:
        upsert_sources(session, [spec("alpha"), spec("beta"), spec("gamma")])
        record_fetches(session, [_ok("alpha"), _ok("beta")], T0, INTERVAL)
        names = ["gamma", "beta", "alpha", "delta"]
        assert due_source_names(session, names, at(10)) == ["gamma", "delta"]
        assert due_source_names(session, names, at(300)) == ["gamma", "beta", "delta"]
        assert due_source_names(session, names, at(600)) == names


def test_problems_of_a_successful_fetch_are_shown(sessions: sessionmaker[Session]) -> None:
    bozo = FetchResult(source="alpha", status="ok", http_status=200, problems=("not well-formed",))
    with sessions.begin() as session:
        upsert_sources(session, [spec("alpha")])
        record_fetches(session, [bozo], T0, INTERVAL)
        [health] = source_health(session)
    assert health.healthy and health.last_error == "not well-formed"


def test_unknown_source_is_an_error(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session, pytest.raises(ValueError, match="nobody"):
        record_fetches(session, [_ok("nobody")], T0, INTERVAL)


def test_naive_timestamps_are_refused(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        upsert_sources(session, [spec("alpha")])
        with pytest.raises(ValueError, match="naive"):
            record_fetches(session, [_ok("alpha")], T0.replace(tzinfo=None), INTERVAL)


# --- due means due: a healthy source opens 30-60 s early, a failing one never ---------------


def test_a_healthy_source_is_due_a_quarter_of_its_interval_early_within_30_to_60_s(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as session:
        upsert_sources(session, [spec("alpha"), spec("beta")])
        record_fetches(session, [_ok("alpha"), _ok("beta")], T0, INTERVAL)
        names = ["alpha", "beta"]
        assert due_source_names(session, names, at(239)) == []
        assert due_source_names(session, names, at(240)) == ["beta"]  # 300 s less a minute
        assert due_source_names(session, names, at(539)) == ["beta"]
        assert due_source_names(session, names, at(540)) == names  # 600 s less a minute
        [alpha, _] = source_health(session)
    assert alpha.next_due_at == at(600), "the stored next poll time is still the interval's"


def test_a_short_interval_opens_at_least_30_s_early(sessions: sessionmaker[Session]) -> None:
    intervals = {"one-minute": 60, "two-minutes": 120, "three-minutes": 180}
    with sessions.begin() as session:
        upsert_sources(session, [spec(name) for name in intervals])
        record_fetches(session, [_ok(name) for name in intervals], T0, intervals)
        names = list(intervals)
        assert due_source_names(session, names, at(29)) == []
        assert due_source_names(session, names, at(30)) == ["one-minute"]  # half of it
        assert due_source_names(session, names, at(89)) == ["one-minute"]
        assert due_source_names(session, names, at(90)) == names[:2]  # a quarter: 30 s
        assert due_source_names(session, names, at(134)) == names[:2]
        assert due_source_names(session, names, at(135)) == names  # a quarter: 45 s


def test_a_source_fetched_late_in_its_cycle_is_polled_on_every_tick(
    sessions: sessionmaker[Session],
) -> None:
    # Ticks one interval apart; each cycle checks `start` s after its tick and records the
    # fetch `fetched` s after it (lags seen under `serve` on a loaded machine), so checks come
    # up to 18 s before the last fetch's next poll time, within the 30 s slack of a 1-minute
    # interval. Strictly `next_due_at <= now`, only ticks 0, 2 and 4 would poll.
    interval = {"alpha": 60}
    lags = [(17, 24), (20, 37), (19, 26), (22, 28), (18, 25), (21, 27)]  # (start, fetched) s
    with sessions.begin() as session:
        upsert_sources(session, [spec("alpha")])
    polled = []
    for tick, (start, fetched) in enumerate(lags):
        with sessions.begin() as session:
            due = due_source_names(session, ["alpha"], at(60 * tick + start))
            if due:
                polled.append(tick)
                record_fetches(session, [_ok("alpha")], at(60 * tick + fetched), interval)
    assert polled == list(range(len(lags)))


def test_a_failing_source_waits_out_its_whole_backoff(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        upsert_sources(session, [spec("alpha")])
        record_fetches(session, [_fail("alpha")], T0, INTERVAL)
        # The first failure waits the interval, and all of it: no slack for a failing source.
        assert due_source_names(session, ["alpha"], at(599)) == []
        assert due_source_names(session, ["alpha"], at(600)) == ["alpha"]
        record_fetches(session, [_fail("alpha")], at(600), INTERVAL)
        assert due_source_names(session, ["alpha"], at(600 + 1199)) == []
        assert due_source_names(session, ["alpha"], at(600 + 1200)) == ["alpha"]
        record_fetches(session, [_ok("alpha")], at(1800), INTERVAL)
        # Recovered: healthy again, so a minute (a quarter of 600 s, at most 60) early again.
        assert due_source_names(session, ["alpha"], at(1800 + 539)) == []
        assert due_source_names(session, ["alpha"], at(1800 + 540)) == ["alpha"]


def test_retry_after_is_waited_out_to_the_second(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        upsert_sources(session, [spec("alpha"), spec("beta")])
        limited = [
            _fail("alpha", status=429, retry_after=7200),
            _fail("beta", status=503, retry_after=30),  # shorter than the interval: ignored
        ]
        record_fetches(session, limited, T0, INTERVAL)
        names = ["alpha", "beta"]
        assert due_source_names(session, names, at(299)) == []
        assert due_source_names(session, names, at(300)) == ["beta"]
        assert due_source_names(session, names, at(7199)) == ["beta"]
        assert due_source_names(session, names, at(7200)) == names


@settings(max_examples=300, deadline=None)
@given(
    interval_s=st.integers(min_value=1, max_value=MAX_BACKOFF_S),
    failures=st.integers(min_value=0, max_value=40),
    fetched_s=st.integers(min_value=0, max_value=10**8),
)
def test_a_poll_opens_a_quarter_of_the_interval_early_within_bounds_never_when_failing(
    interval_s: int, failures: int, fetched_s: int
) -> None:
    last_fetch = at(fetched_s)
    delay = failure_delay_s(interval_s, failures) if failures else interval_s
    next_due = last_fetch + timedelta(seconds=delay)
    opens = poll_opens_at(next_due, last_fetch, failures)
    assert opens <= next_due
    early = next_due - opens
    if failures:
        assert early == timedelta(0)
    else:
        assert timedelta(seconds=min(DUE_SLACK_MIN_S, delay / 2)) <= early
        assert early <= timedelta(seconds=DUE_SLACK_MAX_S)
        assert early <= timedelta(seconds=max(delay * DUE_SLACK_FRACTION, DUE_SLACK_MIN_S))
        assert early <= timedelta(seconds=delay / 2)
    if failures:
        assert opens == next_due
    assert poll_opens_at(next_due, None, failures) == next_due
