"""A separate process for the concurrency tests: python dbworker.py MODE URL OUT GO [N].

Every worker announces itself (GO.ready.<pid>), waits for the GO file so that all workers start
together, does its part against the shared database and writes a JSON result to OUT.

MODE
  claim    claim deliveries (a few per transaction) and record each as sent, until none is due
  store    store the N articles of dbtestkit.bulk_articles in batches of 50 (one transaction
           each), in reverse order when N is negative; report how many this process stored
  detect   one "run": read candidates, think, create the development if nobody has (one
           transaction, as the flows do); report the alert ids written
  upgrade  migrate the database to head
  lock     try to acquire the "monitor" lease; report whether it did
"""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import timedelta
from pathlib import Path

from dbtestkit import T0, article, change, development, match, spec

from core.model import NewRef, StoredRef
from db import (
    acquire_lock,
    apply_changes,
    candidate_developments,
    claim_deliveries,
    create_engine_for,
    make_sessionmaker,
    record_delivery,
    store_articles,
    upgrade,
    upsert_sources,
)


def _wait_for_go(go: Path) -> None:
    Path(f"{go}.ready.{os.getpid()}").touch()
    deadline = time.monotonic() + 60
    while not go.exists():
        if time.monotonic() > deadline:
            raise SystemExit("never got the go signal")
        time.sleep(0.005)


def claim(url: str, go: Path) -> dict[str, object]:
    """Claim and send until nothing is due; return the delivery ids this process claimed."""
    sessions = make_sessionmaker(create_engine_for(url))
    with sessions.begin():
        pass  # connected before the start, so neither process begins with a head start
    _wait_for_go(go)
    claimed: list[int] = []
    while True:
        with sessions.begin() as session:
            batch = claim_deliveries(session, T0 + timedelta(seconds=1), limit=7)
        if not batch:
            return {"claimed": claimed}
        for item in batch:
            claimed.append(item.delivery_id)
            time.sleep(0.001)  # "sending", outside any transaction, as the notifier does
            with sessions.begin() as session:
                record_delivery(session, item.delivery_id, True, None, T0 + timedelta(seconds=2))


def bulk_articles(n: int) -> list:
    """The same n articles for every process: 20 sources, distinct guids."""
    return [article(f"src{i % 20}", i) for i in range(n)]


def store(url: str, n: int) -> dict[str, object]:
    """Store the shared articles in 50-article transactions; return how many were new here."""
    sessions = make_sessionmaker(create_engine_for(url))
    items = bulk_articles(abs(n))
    if n < 0:
        items.reverse()
    new: list[str] = []
    for start in range(0, len(items), 50):
        with sessions.begin() as session:
            ids = upsert_sources(session, [spec(f"src{i}") for i in range(20)])
            result = store_articles(session, ids, items[start : start + 50], T0)
        new.extend(s.article.guid for s in result.new)
    return {"new": new}


def detect(url: str) -> dict[str, object]:
    """Candidate read, slow detection, apply: in one transaction, like the flows."""
    sessions = make_sessionmaker(create_engine_for(url))
    source = f"outlet{os.getpid()}"
    with sessions.begin() as session:
        ids = upsert_sources(session, [spec(source)])
        [stored] = store_articles(session, ids, [article(source, 0)], T0).new
    with sessions.begin() as session:
        found = candidate_developments(session, ["missile_launch"], None)
        time.sleep(0.3)  # "detection": long enough for the other run to read candidates too
        if found:
            ref, kind = StoredRef(found[0].id), None
        else:
            ref, kind = NewRef(0), "new"
        keys = {stored.article.guid: stored.id}
        ev = [match(stored.article.guid)]
        alert_ids = apply_changes(session, [change(ref, development(), ev, kind)], keys, T0)
    return {"alerts": alert_ids}


def main() -> None:
    """Entry point."""
    mode, url, out, go = sys.argv[1:5]
    if mode == "upgrade":
        engine = create_engine_for(url)
        _wait_for_go(Path(go))
        upgrade(engine)
        result: dict[str, object] = {"ok": True}
    elif mode == "claim":
        result = claim(url, Path(go))
    else:
        _wait_for_go(Path(go))
        if mode == "store":
            result = store(url, int(sys.argv[5]))
        elif mode == "detect":
            result = detect(url)
        elif mode == "lock":
            with make_sessionmaker(create_engine_for(url)).begin() as session:
                result = {"acquired": acquire_lock(session, "monitor", str(os.getpid()), T0, 60)}
        else:
            raise SystemExit(f"unknown mode {mode}")
    Path(out).write_text(json.dumps(result))


if __name__ == "__main__":
    main()
