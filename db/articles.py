"""Articles: batched, idempotent storage with duplicate detection and cross-source linking."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session

from core.model import Article
from core.text import NEAR_DUPLICATE_DISTANCE, simhash, simhash_bands, simhash_distance
from db._sql import chunked, insert_for
from db.models import articles
from db.types import as_utc

# PostgreSQL's btree entries are limited to ~2.7 kB; longer keys are stored as their hash so one
# odd feed item cannot fail a whole batch.
MAX_KEY_BYTES = 1024
_TRACKING_PARAM = re.compile(r"^(utm_[a-z]+|fbclid|gclid|mc_cid|mc_eid)$", re.IGNORECASE)
_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True, slots=True)
class StoredArticle:
    """An article this call stored, with its database id."""

    id: int
    article: Article


@dataclass(frozen=True, slots=True)
class StoreResult:
    """Outcome of one batch: the newly stored articles (input order) and what was not stored.

    `duplicates` counts articles not stored (same guid, URL or content already at their source,
    also within the batch); `linked` counts new articles whose content another source already
    had, or that are near-duplicates (SimHash) of a stored article: stored anyway, with
    `duplicate_of_id` set, since a wire copy at another outlet is evidence of its own.
    """

    new: list[StoredArticle]
    duplicates: int
    linked: int


def canonical_url(url: str | None) -> str | None:
    """A simple canonical form of `url` for duplicate detection.

    Lower-case scheme and host, no default port, no fragment, no trailing slash, no tracking
    parameters (utm_*, fbclid, gclid, mc_*). Adapters may canonicalise further before this.
    """
    if not url or not url.strip():
        return None
    text = url.strip()
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        return text
    if not parts.scheme or not parts.hostname:
        return text
    scheme = parts.scheme.lower()
    netloc = parts.hostname.lower()
    if port is not None and _DEFAULT_PORTS.get(scheme) != port:
        netloc = f"{netloc}:{port}"
    path = parts.path.rstrip("/") or "/"
    query = parts.query and urlencode(
        [
            (k, v)
            for k, v in parse_qsl(parts.query, keep_blank_values=True)
            if not _TRACKING_PARAM.match(k)
        ]
    )
    return urlunsplit((scheme, netloc, path, query, ""))


def _key(value: str) -> str:
    """`value` as stored in a unique index: itself, or its hash when too long to index."""
    if len(value.encode("utf-8", "surrogatepass")) <= MAX_KEY_BYTES:
        return value
    return "sha256:" + hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()


def stored_guid(guid: str) -> str:
    """The form in which an article's guid is stored (NULs dropped, very long ones hashed)."""
    return _key(_clean(guid))


def _clean(value: Any) -> Any:
    """Strip NUL characters, which PostgreSQL refuses in text and JSON, from nested values."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, Mapping):
        return {str(k).replace("\x00", ""): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def _published(value: datetime | None) -> datetime | None:
    # Adapters promise aware datetimes; a naive one from a sloppy feed is read as UTC rather
    # than failing the batch.
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def _simhash_columns(text: str) -> dict[str, int | None]:
    value = simhash(text)
    bands: tuple[int | None, ...] = simhash_bands(value) if value is not None else (None,) * 4
    return {"simhash": value, **{f"simhash_band{i}": band for i, band in enumerate(bands)}}


def _row(source_id: int, guid: str, article: Article, fetched_at: datetime) -> dict:
    url = _clean(article.url) if article.url else None
    canonical = canonical_url(url)
    return {
        **_simhash_columns(article.text),
        "source_id": source_id,
        "guid": guid,
        "url": url,
        "canonical_url": _key(canonical) if canonical else None,
        "title": _clean(article.title),
        "text": _clean(article.text),
        "published_at": _published(article.published),
        "fetched_at": fetched_at,
        "content_hash": article.content_hash,
        "raw": _clean(dict(article.raw)),
    }


def _keyed(
    source_ids: Mapping[str, int], batch: Sequence[Article]
) -> list[tuple[int, str, Article]]:
    """(source id, stored guid, article) for each article of the batch."""
    keyed = []
    for article in batch:
        try:
            source_id = source_ids[article.source]
        except KeyError:
            raise ValueError(
                f"store_articles: unknown source {article.source!r}: upsert_sources first"
            ) from None
        keyed.append((source_id, stored_guid(article.guid), article))
    return keyed


def _stored_guids(session: Session, pairs: set[tuple[int, str]]) -> set[tuple[int, str]]:
    """Which (source id, guid) pairs are already stored.

    Re-polled feeds mostly repeat items already stored; finding them first spares hashing and
    sending their bodies. The insert's ON CONFLICT still settles races with other writers.
    """
    found: set[tuple[int, str]] = set()
    by_source: dict[int, list[str]] = {}
    for source_id, guid in sorted(pairs):
        by_source.setdefault(source_id, []).append(guid)
    # One source per query, so the (source_id, guid) unique index answers it directly.
    for source_id, guids in by_source.items():
        for part in chunked(guids):
            query = select(articles.c.guid).where(
                articles.c.source_id == source_id, articles.c.guid.in_(part)
            )
            found.update((source_id, guid) for guid in session.scalars(query))
    return found


def _unique_in_batch(
    keyed: Sequence[tuple[int, str, Article]], stored: set[tuple[int, str]], fetched_at: datetime
) -> tuple[list[dict], list[Article]]:
    """Rows to insert, first occurrence winning, with the same keys the constraints enforce."""
    seen: set[tuple[int, str, str]] = set()
    rows: list[dict] = []
    kept: list[Article] = []
    for source_id, guid, article in keyed:
        if (source_id, guid) in stored:
            continue
        row = _row(source_id, guid, article, fetched_at)
        keys = {(source_id, "guid", guid), (source_id, "hash", row["content_hash"])}
        if row["canonical_url"]:
            keys.add((source_id, "url", row["canonical_url"]))
        if keys & seen:
            continue
        seen |= keys
        rows.append(row)
        kept.append(article)
    return rows, kept


def store_articles(
    session: Session,
    source_ids: Mapping[str, int],
    articles_in: Sequence[Article],
    fetched_at: datetime,
) -> StoreResult:
    """Store a batch of articles; return the ones stored now, in input order.

    One ``INSERT ... ON CONFLICT DO NOTHING ... RETURNING`` for the batch: an article whose
    (source, guid), (source, canonical URL) or (source, content hash) is already stored is not
    stored again, even when another process stores it at the same moment, and only the process
    that inserted a row reports it as new. New articles whose content hash another source
    already has get `duplicate_of_id` pointing at the earliest such article.
    """
    fetched_at = as_utc(fetched_at)
    keyed = _keyed(source_ids, articles_in)
    stored = _stored_guids(session, {(sid, guid) for sid, guid, _ in keyed})
    rows, kept = _unique_in_batch(keyed, stored, fetched_at)
    if not rows:
        return StoreResult(new=[], duplicates=len(articles_in), linked=0)
    stmt = (
        insert_for(session, articles)
        .on_conflict_do_nothing()
        .returning(articles.c.id, articles.c.source_id, articles.c.guid)
    )
    # Insert in key order: two runs storing overlapping batches (in any order) then take row
    # locks in the same order on PostgreSQL, so they wait for each other instead of deadlocking.
    ordered = sorted(rows, key=lambda row: (row["source_id"], row["guid"]))
    inserted = {(sid, guid): id_ for id_, sid, guid in session.execute(stmt, ordered)}
    new: list[StoredArticle] = []
    new_hashes: dict[int, str] = {}
    new_simhashes: dict[int, int] = {}
    for row, article in zip(rows, kept, strict=True):
        article_id = inserted.get((row["source_id"], row["guid"]))
        if article_id is not None:
            new.append(StoredArticle(id=article_id, article=article))
            new_hashes[article_id] = row["content_hash"]
            if row["simhash"] is not None:
                new_simhashes[article_id] = row["simhash"]
    exact = _link_cross_source_copies(session, new_hashes)
    near = _link_near_duplicates(
        session, {i: h for i, h in new_simhashes.items() if i not in exact}
    )
    return StoreResult(new=new, duplicates=len(articles_in) - len(new), linked=len(exact) + near)


def _link_cross_source_copies(session: Session, new_hashes: Mapping[int, str]) -> set[int]:
    """Point each new article at the earliest article with the same content; return those linked.

    The earliest article with a hash is always at another source (a source holds a hash once).
    """
    if not new_hashes:
        return set()
    first: dict[str, int] = {}
    for part in chunked(sorted(set(new_hashes.values()))):
        query = (
            select(articles.c.content_hash, func.min(articles.c.id))
            .where(articles.c.content_hash.in_(part))
            .group_by(articles.c.content_hash)
        )
        first.update(dict(session.execute(query).all()))
    links = [
        {"b_id": article_id, "b_original": first[h]}
        for article_id, h in new_hashes.items()
        if first.get(h, article_id) != article_id
    ]
    if links:
        stmt = (
            update(articles)
            .where(articles.c.id == bindparam("b_id"))
            .values(duplicate_of_id=bindparam("b_original"))
        )
        session.connection().execute(stmt, links)
    return {link["b_id"] for link in links}


def _near_duplicate_candidates(
    session: Session, values: Sequence[int]
) -> dict[tuple[int, int], list[tuple[int, int]]]:
    """Stored articles sharing a SimHash band with `values`, as {(band index, band value):
    [(id, simhash), ...]} so each new article is compared only with its band-mates."""
    wanted: list[set[int]] = [set() for _ in range(4)]
    for value in values:
        for i, band in enumerate(simhash_bands(value)):
            wanted[i].add(band)
    band_columns = (
        articles.c.simhash_band0,
        articles.c.simhash_band1,
        articles.c.simhash_band2,
        articles.c.simhash_band3,
    )
    by_band: dict[tuple[int, int], list[tuple[int, int]]] = {}
    for i, (column, bands) in enumerate(zip(band_columns, wanted, strict=True)):
        for part in chunked(sorted(bands)):
            query = select(articles.c.id, articles.c.simhash, column).where(column.in_(part))
            for article_id, value, band in session.execute(query).tuples():
                by_band.setdefault((i, band), []).append((article_id, value))
    return by_band


def _earliest_near_duplicate(
    article_id: int, value: int, by_band: Mapping[tuple[int, int], list[tuple[int, int]]]
) -> int | None:
    """The smallest earlier id within NEAR_DUPLICATE_DISTANCE bits of `value`, if any."""
    close = {
        other_id
        for i, band in enumerate(simhash_bands(value))
        for other_id, other in by_band.get((i, band), ())
        if other_id < article_id and simhash_distance(value, other) <= NEAR_DUPLICATE_DISTANCE
    }
    return min(close, default=None)


def _link_near_duplicates(session: Session, new_simhashes: Mapping[int, int]) -> int:
    """Point each new article at the earliest stored article whose SimHash is within
    NEAR_DUPLICATE_DISTANCE bits (the same wire copy at another outlet, or a lightly edited
    re-post); return how many were linked. Both stay stored: each is evidence on its own."""
    if not new_simhashes:
        return 0
    by_band = _near_duplicate_candidates(session, list(new_simhashes.values()))
    links = []
    for article_id, value in sorted(new_simhashes.items()):
        original = _earliest_near_duplicate(article_id, value, by_band)
        if original is not None:
            links.append({"b_id": article_id, "b_original": original})
    if links:
        stmt = (
            update(articles)
            .where(articles.c.id == bindparam("b_id"))
            .values(duplicate_of_id=bindparam("b_original"))
        )
        session.connection().execute(stmt, links)
    return len(links)


def count_articles(session: Session) -> int:
    """How many articles are stored."""
    return int(session.scalar(select(func.count()).select_from(articles)) or 0)
