"""Stage outcomes fold part by part and show in one summary line (`flows.stages.outcomes`)."""

from __future__ import annotations

from array import array

from flows.stages.delivery import SendOutcome
from flows.stages.ingest import StoreOutcome
from flows.stages.outcomes import fold, summary
from flows.stages.report import FailedItem
from flows.stages.tasks import DetectOutcome


def test_folding_adds_counts_and_joins_collections_in_place() -> None:
    total = StoreOutcome(new=2, read=5, new_per_source={"a": 2}, article_ids=array("q", [1, 2]))
    ids = total.article_ids
    fold(total, StoreOutcome(new=1, read=3, failed=["x"], new_per_source={"a": 1, "b": 4}))
    fold(total, StoreOutcome(duplicates=2, article_ids=array("q", [7])))
    assert (total.new, total.read, total.duplicates, total.failed) == (3, 8, 2, ["x"])
    assert total.new_per_source == {"a": 3, "b": 4}
    assert total.article_ids is ids and list(ids) == [1, 2, 7]


def test_folding_unites_sets() -> None:
    total = SendOutcome(alerts_sent={1, 2}, delivered=2)
    fold(total, SendOutcome(alerts_sent={2, 3}, delivered=1, held=4))
    assert (total.alerts_sent, total.delivered, total.held) == ({1, 2, 3}, 3, 4)


def test_a_detect_summary_counts_alerts_and_failures_and_leaves_ids_out() -> None:
    outcome = DetectOutcome(
        articles=3,
        matches=2,
        changes=1,
        alert_ids=[10, 11],
        failed=[FailedItem(5, "feed", "guid-5", "boom")],
        article_ids=array("q", [5, 6, 7]),
    )
    assert summary(outcome) == {
        "articles": 3,
        "matches": 2,
        "changes": 1,
        "alerts": 2,
        "failed": 1,
    }


def test_a_send_summary_names_deliveries_sent() -> None:
    outcome = SendOutcome(alerts_sent={1}, delivered=3, failed=1, gave_up=1, digests=2)
    assert summary(outcome) == {
        "sent": 3,
        "failed": 1,
        "gave_up": 1,
        "held": 0,
        "unrouted": 0,
        "digests": 2,
    }
