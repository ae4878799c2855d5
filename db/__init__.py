"""Storage: SQLAlchemy 2 models, engine, repository functions and Alembic migrations.

Repository functions take a Session and never commit: the caller owns the transaction
(``with session.begin(): ...``), so a development change and its alert commit together (outbox).
"""

from db.articles import (
    StoredArticle,
    StoreResult,
    canonical_url,
    count_articles,
    store_articles,
    stored_guid,
)
from db.developments import (
    DevelopmentView,
    apply_changes,
    candidate_developments,
    developments_evidenced_by,
    list_developments,
)
from db.engine import (
    DETECTION_LOCK,
    create_engine_for,
    current_revision,
    make_sessionmaker,
    transaction_lock,
    upgrade,
)
from db.locks import acquire_lock, lock_developments, release_lock, renew_lock
from db.outbox import (
    AlertView,
    ClaimedDelivery,
    DeliveryView,
    claim_deliveries,
    defer_deliveries,
    delivery_backoff_s,
    list_alerts,
    load_alerts,
    record_delivery,
    record_outcome,
    retry_failed,
    route_alert,
    unrouted_alerts,
)
from db.retention import PurgeResult, purge
from db.sources import (
    SourceHealth,
    due_source_names,
    failure_delay_s,
    record_fetches,
    source_health,
    source_states,
    upsert_sources,
)

__all__ = [
    "DETECTION_LOCK",
    "AlertView",
    "ClaimedDelivery",
    "DeliveryView",
    "DevelopmentView",
    "PurgeResult",
    "SourceHealth",
    "StoreResult",
    "StoredArticle",
    "acquire_lock",
    "apply_changes",
    "candidate_developments",
    "canonical_url",
    "claim_deliveries",
    "count_articles",
    "create_engine_for",
    "current_revision",
    "defer_deliveries",
    "delivery_backoff_s",
    "developments_evidenced_by",
    "due_source_names",
    "failure_delay_s",
    "list_alerts",
    "list_developments",
    "load_alerts",
    "lock_developments",
    "make_sessionmaker",
    "purge",
    "record_delivery",
    "record_fetches",
    "record_outcome",
    "release_lock",
    "renew_lock",
    "retry_failed",
    "route_alert",
    "source_health",
    "source_states",
    "store_articles",
    "stored_guid",
    "transaction_lock",
    "unrouted_alerts",
    "upgrade",
    "upsert_sources",
]
