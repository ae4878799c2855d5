"""`watchfloor db upgrade` and `watchfloor db purge` as an operator runs them: the installed
command in a real process, on SQLite and on a real PostgreSQL (the store read after, in the test
process's CLI host)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory

import db
from db.engine import alembic_config
from db.models import alerts, articles, deliveries, developments, evidence
from tests.clikit import run_in_host
from tests.clikit import run_watchfloor as watchfloor
from tests.conftest import SEEDS, store_env

BACKENDS = [
    pytest.param("sqlite_url", id="sqlite"),
    pytest.param("pg_url", id="postgresql", marks=pytest.mark.postgres),
]
# A local story no rule reports: stored, never evidence of a development.
NEUTRAL = """date: 2026-01-20
City council approves library budget

SEOUL, Jan 20 (Yonhap) -- The city council approved a larger budget for public libraries on
Monday, adding evening opening hours at twelve branches and a new reading room for children.
Officials said the plan would be reviewed after one year.
"""


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest) -> str:
    """An empty store on each backend."""
    return str(request.getfixturevalue(request.param))


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


@pytest.fixture
def engine_of() -> Iterator[Any]:
    """Engines opened by a test, disposed after it (PostgreSQL drops the database after)."""
    opened: list[sa.Engine] = []

    def make(url: str) -> sa.Engine:
        engine = db.create_engine_for(url)
        opened.append(engine)
        return engine

    yield make
    for engine in opened:
        engine.dispose()


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def test_db_upgrade_migrates_an_empty_store_once(
    store_url: str, tmp_path: Path, engine_of: Any
) -> None:
    first = ok(watchfloor("db", "upgrade", "--db", store_url, cwd=tmp_path))
    head = head_revision()
    assert f"schema at {head}" in first and "was empty" in first
    engine = engine_of(store_url)
    assert db.current_revision(engine) == head
    tables = set(sa.inspect(engine).get_table_names())
    assert {"articles", "developments", "evidence", "alerts", "deliveries", "sources"} <= tables

    again = ok(watchfloor("db", "upgrade", "--db", store_url, cwd=tmp_path))
    assert again.strip() == f"schema at {head}"  # nothing to do, nothing changed


# --- retention -------------------------------------------------------------------------------


def replayed_store(url: str, tmp_path: Path) -> None:
    """The seeds and one neutral story replayed into `url` (in this process, real Prefect)."""
    from flows.replay import replay_flow

    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "neutral.txt").write_text(NEUTRAL, encoding="utf-8")
    with store_env(url):
        report = replay_flow(paths=[str(SEEDS), str(extra)])
    assert report.articles == 6 and report.alerts_sent == 4


def age_articles(engine: sa.Engine, days: int, keep_recent: str | None = None) -> None:
    """Pretend every article (but `keep_recent`, a guid prefix) was fetched `days` ago."""
    old = datetime.now(UTC) - timedelta(days=days)
    stmt = sa.update(articles).values(fetched_at=old)
    if keep_recent:
        stmt = stmt.where(~articles.c.guid.startswith(keep_recent))
    with engine.begin() as connection:
        connection.execute(stmt)


def old_replayed_store(
    url: str, tmp_path: Path, engine_of: Callable[[str], sa.Engine], keep_recent: str | None = None
) -> sa.Engine:
    """replayed_store, then its articles (but `keep_recent`) made 40 days old; an engine on it."""
    replayed_store(url, tmp_path)
    engine = engine_of(url)
    age_articles(engine, days=40, keep_recent=keep_recent)
    return engine


def history(engine: sa.Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Everything retention must keep: developments, evidence, alerts, deliveries, and the
    evidence articles' metadata."""
    with engine.connect() as connection:

        def rows(table: sa.Table) -> list[tuple[Any, ...]]:
            return [tuple(r) for r in connection.execute(sa.select(table).order_by(table.c.id))]

        evidence_articles = connection.execute(
            sa.select(articles.c.id, articles.c.guid, articles.c.title, articles.c.url)
            .where(articles.c.id.in_(sa.select(evidence.c.article_id)))
            .order_by(articles.c.id)
        )
        return {
            "developments": rows(developments),
            "evidence": rows(evidence),
            "alerts": rows(alerts),
            "deliveries": rows(deliveries),
            "evidence_articles": [tuple(r) for r in evidence_articles],
        }


def bodies(engine: sa.Engine) -> dict[str, tuple[bool, bool]]:
    """guid -> (has text, has raw)."""
    with engine.connect() as connection:
        found = connection.execute(
            sa.select(articles.c.guid, articles.c.text.is_not(None), articles.c.raw.is_not(None))
        )
        return {guid: (bool(t), bool(r)) for guid, t, r in found}


@pytest.mark.usefixtures("prefect_harness")
def test_db_purge_clears_old_bodies_and_keeps_history(
    store_url: str, tmp_path: Path, engine_of: Any
) -> None:
    engine = old_replayed_store(store_url, tmp_path, engine_of, keep_recent="004_")
    before = history(engine)
    assert len(before["developments"]) == 4 and len(before["alerts"]) == 4

    out = ok(watchfloor("db", "purge", "--older-than", "30", "--db", store_url, cwd=tmp_path))
    assert out.startswith("cleared 5 article bodies, deleted 0 articles")
    after = bodies(engine)
    assert len(after) == 6, "bodies go, articles stay"
    assert {g for g, kept in after.items() if kept == (True, True)} == {
        g for g in after if g.startswith("004_")
    }
    assert all(kept == (False, False) for g, kept in after.items() if not g.startswith("004_"))
    assert history(engine) == before

    listed = json.loads(ok(run_in_host("developments", "--db", store_url, "--json", cwd=tmp_path)))
    assert sorted(d["category"] for d in listed) == [
        "military_exercise",
        "ministerial_meeting",
        "missile_launch",
        "summit",
    ]
    assert all(d["evidence"] for d in listed), "evidence metadata is still readable"

    again = ok(watchfloor("db", "purge", "--older-than", "30", "--db", store_url, cwd=tmp_path))
    assert again.startswith("cleared 0 article bodies")


@pytest.mark.usefixtures("prefect_harness")
def test_db_purge_delete_articles_keeps_evidence_articles(
    store_url: str, tmp_path: Path, engine_of: Any
) -> None:
    engine = old_replayed_store(store_url, tmp_path, engine_of)
    before = history(engine)

    out = ok(
        watchfloor(
            "db",
            "purge",
            "--older-than",
            "30",
            "--delete-articles",
            "--db",
            store_url,
            cwd=tmp_path,
        )
    )
    assert out.startswith("cleared 6 article bodies, deleted 1 articles")
    remaining = bodies(engine)
    assert not any(g.startswith("neutral.txt") for g in remaining), "the non-evidence story went"
    assert len(remaining) == 5
    assert history(engine) == before

    # The next replay recognises the purged seeds: nothing is stored or alerted twice.
    from flows.replay import replay_flow

    with store_env(store_url):
        report = replay_flow(paths=[str(SEEDS)])
    assert report.new_articles == 0 and report.alerts_sent == 0


def test_db_purge_refuses_a_missing_or_bad_age(sqlite_url: str, tmp_path: Path) -> None:
    missing = watchfloor("db", "purge", "--db", sqlite_url, cwd=tmp_path)
    assert missing.returncode == 2 and "--older-than" in missing.stderr
    zero = watchfloor("db", "purge", "--older-than", "0", "--db", sqlite_url, cwd=tmp_path)
    assert zero.returncode == 2
    assert "Traceback" not in missing.stderr + zero.stderr
