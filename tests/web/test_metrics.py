"""GET /metrics over the seeds' replay, scraped over real HTTP and read with prometheus_client's
own parser: each value is checked against the store as the CLI's code reads it."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import delete, select, update

import db
from db.models import alerts, deliveries
from flows.cli.alerts import alert_state
from tests.notify.receivers import free_port
from tests.web.webkit import (
    APPRISE_SECRET,
    TOKEN,
    config_for,
    copy_fetched_ago,
    serving,
    set_last_fetch,
    sqlite_copy,
)

# A scrape as Prometheus reads it: {(metric name, frozenset of label pairs): value}.
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scraped(text: str) -> Samples:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def labelled(samples: Samples, name: str, label: str) -> dict[str, float]:
    """The samples of `name` keyed by the value of their one label `label`."""
    return {dict(labels)[label]: value for (n, labels), value in samples.items() if n == name}


def value(samples: Samples, name: str) -> float:
    return samples[(name, frozenset())]


def _store_truth(url: str) -> tuple[Counter[tuple[str, str]], int, Counter[str], Counter[str], int]:
    """Live developments by (category, status), articles, alerts by `alerts list` state, deliveries
    by state and sources, read through the repository functions the CLI uses."""
    engine = db.create_engine_for(url)
    with db.make_sessionmaker(engine)() as session:
        views = db.list_developments(session)
        alert_views = db.list_alerts(session)
        articles = db.count_articles(session)
        source_count = len(db.source_health(session))
    engine.dispose()
    return (
        Counter((v.category, v.status) for v in views if v.dismissed_as is None),
        articles,
        Counter(alert_state(a) for a in alert_views),
        Counter(d.state for a in alert_views for d in a.deliveries),
        source_count,
    )


def test_metrics_match_the_store(seed_store: str, tmp_path: Path) -> None:
    url = copy_fetched_ago(seed_store, tmp_path, timedelta(minutes=7), failures=0)
    with serving(config_for(url, interval_s=600)) as client:
        answer = client.get("/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain; version=")
    samples = scraped(answer.text)
    by_category, articles, alert_states, delivery_states, source_count = _store_truth(url)

    developments = {
        (dict(labels)["category"], dict(labels)["status"]): n
        for (name, labels), n in samples.items()
        if name == "watchfloor_developments"
    }
    assert developments == by_category
    assert sum(developments.values()) == 4
    assert developments[("ministerial_meeting", "occurred")] == 1
    assert value(samples, "watchfloor_articles") == articles > 0
    alerts = labelled(samples, "watchfloor_alerts", "state")
    assert set(alerts) == {"unrouted", "queued", "failed", "pending", "withdrawn", "sent"}
    assert {s: n for s, n in alerts.items() if n} == alert_states
    # The seeds raise four alerts (README); the dead Apprise target keeps them unsent.
    assert sum(alerts.values()) == 4 and alerts["sent"] == 0
    deliveries = labelled(samples, "watchfloor_deliveries", "state")
    assert set(deliveries) == {"pending", "sending", "sent", "failed", "withdrawn"}
    assert {s: n for s, n in deliveries.items() if n} == delivery_states
    assert value(samples, "watchfloor_sources") == source_count > 0
    assert value(samples, "watchfloor_sources_failing") == 0
    assert 7 * 60 - 5 < value(samples, "watchfloor_last_cycle_age_seconds") < 7 * 60 + 120
    assert value(samples, "watchfloor_cycle_stale_after_seconds") == 1800
    assert value(samples, "watchfloor_store_up") == 1
    assert 0 < value(samples, "watchfloor_scrape_duration_seconds") < 10
    assert any(name == "python_info" for name, _ in samples)
    assert APPRISE_SECRET not in answer.text


def _give_each_alert_a_different_state(url: str) -> None:
    """Of the seeds' four pending alerts: one sent, one failed, one not routed yet, one unrouted."""
    engine = db.create_engine_for(url)
    with engine.begin() as conn:
        sent, failed, queued, unrouted = conn.scalars(select(alerts.c.id).order_by(alerts.c.id))
        conn.execute(update(deliveries).where(deliveries.c.alert_id == sent).values(state="sent"))
        conn.execute(
            update(deliveries).where(deliveries.c.alert_id == failed).values(state="failed")
        )
        conn.execute(delete(deliveries).where(deliveries.c.alert_id.in_((queued, unrouted))))
        conn.execute(update(alerts).where(alerts.c.id == queued).values(routed_at=None))
        conn.execute(update(alerts).where(alerts.c.id == unrouted).values(unrouted=True))
    engine.dispose()


def test_alerts_are_counted_by_the_state_alerts_list_gives_them(
    seed_store: str, tmp_path: Path
) -> None:
    url = sqlite_copy(seed_store, tmp_path)
    _give_each_alert_a_different_state(url)
    with serving(config_for(url)) as client:
        samples = scraped(client.get("/metrics").text)
    _, _, alert_states, delivery_states, _ = _store_truth(url)
    assert alert_states == {"sent": 1, "failed": 1, "queued": 1, "unrouted": 1}
    alerts_seen = labelled(samples, "watchfloor_alerts", "state")
    assert {s: n for s, n in alerts_seen.items() if n} == alert_states
    deliveries_seen = labelled(samples, "watchfloor_deliveries", "state")
    assert {s: n for s, n in deliveries_seen.items() if n} == delivery_states
    assert deliveries_seen["sent"] == deliveries_seen["failed"] == 1


def test_a_false_alarm_moves_its_development_and_withdraws_its_alerts(
    seed_store: str, tmp_path: Path
) -> None:
    url = sqlite_copy(seed_store, tmp_path)
    engine = db.create_engine_for(url)
    with db.make_sessionmaker(engine)() as session, session.begin():
        (meeting,) = [
            v for v in db.list_developments(session) if v.category == "ministerial_meeting"
        ]
        db.mark_false_alarm(session, meeting.id, "analyst", datetime.now(UTC))
    engine.dispose()
    with serving(config_for(url)) as client:
        samples = scraped(client.get("/metrics").text)
    live = {
        dict(labels)["category"] for name, labels in samples if name == "watchfloor_developments"
    }
    assert live == {"missile_launch", "summit", "military_exercise"}
    dismissed = {
        tuple(sorted(labels)): n
        for (name, labels), n in samples.items()
        if name == "watchfloor_developments_dismissed"
    }
    assert dismissed == {(("category", "ministerial_meeting"), ("dismissed_as", "false_alarm")): 1}
    # The meeting's two alerts (new, then held) were pending to the dead target: withdrawn now.
    alerts = labelled(samples, "watchfloor_alerts", "state")
    assert alerts["withdrawn"] == 2 and alerts["pending"] == 2
    _, _, alert_states, _, _ = _store_truth(url)
    assert {s: n for s, n in alerts.items() if n} == alert_states  # as `alerts list` says
    assert labelled(samples, "watchfloor_deliveries", "state")["withdrawn"] == 2


def test_failing_sources_and_a_store_never_fetched(seed_store: str, tmp_path: Path) -> None:
    url = copy_fetched_ago(seed_store, tmp_path, None, failures=3)
    with serving(config_for(url)) as client:
        samples = scraped(client.get("/metrics").text)
    assert value(samples, "watchfloor_sources_failing") == value(samples, "watchfloor_sources")
    assert value(samples, "watchfloor_last_cycle_age_seconds") == float("inf")
    assert not any(name == "watchfloor_last_cycle_timestamp_seconds" for name, _ in samples)


def test_each_scrape_reads_the_store_anew(seed_store: str, tmp_path: Path) -> None:
    url = sqlite_copy(seed_store, tmp_path)
    with serving(config_for(url)) as client:
        set_last_fetch(url, datetime.now(UTC), failures=0)
        before = scraped(client.get("/metrics").text)
        set_last_fetch(url, datetime.now(UTC), failures=1)
        after = scraped(client.get("/metrics").text)
    assert value(before, "watchfloor_sources_failing") == 0
    assert value(after, "watchfloor_sources_failing") == value(after, "watchfloor_sources")


def test_metrics_need_the_token_when_one_is_set(seed_store: str) -> None:
    with serving(config_for(seed_store, token=TOKEN)) as client:
        refused = client.get("/metrics")
        allowed = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert refused.status_code == 401
    assert "watchfloor_" not in refused.text
    assert allowed.status_code == 200
    assert value(scraped(allowed.text), "watchfloor_store_up") == 1
    assert TOKEN not in allowed.text


def test_an_unreachable_store_is_store_up_0_without_its_password() -> None:
    password = "pg-secret-pw-78"
    url = f"postgresql+psycopg://watch:{password}@127.0.0.1:{free_port()}/watchfloor"
    with serving(config_for(url)) as client:
        answer = client.get("/metrics")
    assert answer.status_code == 200
    samples = scraped(answer.text)
    assert value(samples, "watchfloor_store_up") == 0
    assert not any(name == "watchfloor_developments" for name, _ in samples)
    assert password not in answer.text and "watch:" not in answer.text
