"""/healthz: 200 while the store answers and the last monitor cycle is recent, 503 when the
store is unreachable, no cycle was ever recorded, or the last is older than three intervals."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from tests.notify.receivers import free_port
from tests.web.webkit import config_for, copy_fetched_ago, serving


def test_a_fresh_store_is_healthy(seed_store: str, tmp_path: Path) -> None:
    url = copy_fetched_ago(seed_store, tmp_path, timedelta(minutes=5))
    with serving(config_for(url, interval_s=600)) as client:
        answer = client.get("/healthz")
    assert answer.status_code == 200
    body = answer.json()
    assert body["healthy"] is True and body["store"] == "reachable"
    assert 290 < body["last_cycle_age_s"] < 400
    assert body["stale_after_s"] == 1800
    assert body["failing_sources"] == 0
    # The seeds' replay delivered to a dead Apprise target: its retries are still pending.
    assert body["pending_deliveries"] >= 1


def test_a_cycle_older_than_three_intervals_is_unhealthy(seed_store: str, tmp_path: Path) -> None:
    url = copy_fetched_ago(seed_store, tmp_path, timedelta(minutes=31), failures=2)
    with serving(config_for(url, interval_s=600)) as client:
        stale = client.get("/healthz")
    assert stale.status_code == 503
    assert stale.json()["healthy"] is False
    assert "older than 3 poll intervals" in stale.json()["problems"][0]
    assert stale.json()["failing_sources"] >= 1
    with serving(config_for(url, interval_s=3600)) as client:  # hourly cycles: 31 min is fine
        assert client.get("/healthz").status_code == 200


def test_a_store_never_fetched_is_unhealthy(seed_store: str, tmp_path: Path) -> None:
    url = copy_fetched_ago(seed_store, tmp_path, None)
    with serving(config_for(url)) as client:
        answer = client.get("/healthz")
    assert answer.status_code == 503
    assert answer.json()["last_cycle_at"] is None
    assert "no monitor cycle recorded" in answer.json()["problems"][0]


def test_an_unreachable_store_is_503_without_its_password() -> None:
    password = "pg-secret-pw-77"
    url = f"postgresql+psycopg://watch:{password}@127.0.0.1:{free_port()}/watchfloor"
    with serving(config_for(url)) as client:
        answer = client.get("/healthz")
        page = client.get("/")
    assert answer.status_code == 503
    assert answer.json() == {"healthy": False, "store": "unreachable"}
    assert page.status_code == 500
    for text in (answer.text, page.text):
        assert password not in text and "watch:" not in text
