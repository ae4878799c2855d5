"""Articles: batched, idempotent storage with duplicate detection and cross-source linking."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from sqlalchemy import any_, bindparam, func, insert, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from core.model import Article
from core.text import NEAR_DUPLICATE_DISTANCE, simhash_bands, simhash_distance
from db._sql import chunked, insert_for, is_postgres
from db.models import articles, detection_queue
from db.types import as_utc

# PostgreSQL's btree entries are limited to ~2.7 kB; longer keys are stored as their hash so one
# odd feed item cannot fail a whole batch.
MAX_KEY_BYTES = 1024
_TRACKING_PARAM = re.compile(r"^(utm_[a-z]+|fbclid|gclid|mc_cid|mc_eid)$", re.IGNORECASE)
_DEFAULT_PORTS = {"http": 80, "https": 443}
# Near-duplicate candidates read per SimHash band value. Unrelated texts share a 16-bit band by
# chance about once per 65,536 rows, so only a store of ~13 million articles fills a value by
# chance alone; a fuller value is one text repeated (boilerplate), where the earliest copies
# are the link targets anyway. A true near-duplicate also shares at least one band exactly
# (pigeonhole), rarely only a crowded one.
MAX_BAND_CANDIDATES = 200
# Sources per lookup query: an index answers `source_id IN (s) AND key IN (k)` with |s| x |k|
# probes, so the number of sources per query stays small while keys come IN_CHUNK at a time.
SOURCES_PER_QUERY = 32


@dataclass(frozen=True, slots=True)
class StoredArticle:
    """An article this call stored, with its database id and revision (0 for a first text)."""

    id: int
    article: Article
    revision: int = 0


@dataclass(frozen=True, slots=True)
class StoreResult:
    """Outcome of one batch: the newly stored articles (input order) and what was not stored.

    `duplicates` counts articles not stored (already stored with the same text under the same
    guid or URL, or the same text and date under another guid; also within the batch);
    `revised` counts new texts under a known guid (stored as its next revision); `linked` counts
    new articles whose text another article already had, or that are near-duplicates (SimHash)
    of a stored one: stored anyway, with `duplicate_of_id` set, since a wire copy at another
    outlet, or a repeated flash headline about a new event, is evidence of its own.
    """

    new: list[StoredArticle]
    duplicates: int
    linked: int
    revised: int = 0


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


def _clean_text(value: str) -> str:
    """`value` without NULs (PostgreSQL refuses them) and with lone surrogates (a JSON feed's
    "\\ud800") replaced, since neither backend can encode them."""
    if value.isascii() and "\x00" not in value:  # most text: nothing to copy or check
        return value
    value = value.replace("\x00", "")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return value.encode("utf-8", "replace").decode("utf-8")
    return value


# Values `_clean` keeps as they are (exact types: a subclass takes the general path).
_KEPT = frozenset({int, float, bool, type(None)})


def _clean(value: Any) -> Any:
    """Text that every backend can store, in nested values: see `_clean_text`. Mappings become
    dicts with text keys, tuples lists.

    Exact types are tried first (feed fields are str, dict, list and numbers): an ABC check
    (`isinstance(value, Mapping)`) costs more than the cleaning of most values, and a `raw`
    mapping holds a dozen or more of them per article.
    """
    kind = type(value)
    if kind in _KEPT:
        return value
    if kind is str or (kind is not dict and kind is not list and isinstance(value, str)):
        return _clean_text(value)
    if kind is dict or isinstance(value, Mapping):
        return {_clean_text(k if type(k) is str else str(k)): _clean(v) for k, v in value.items()}
    if kind is list or isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def _published(value: datetime | None) -> datetime | None:
    """An item's date in UTC, or None when it cannot be one.

    Adapters promise aware datetimes; a naive one from a sloppy feed is read as UTC rather than
    failing the batch, and a date at the edge of the calendar (year 1 east of UTC, year 9999
    west of it) that has no UTC form is unknown, not an error.
    """
    if value is None:
        return None
    aware = value.replace(tzinfo=UTC) if value.tzinfo is None else value
    try:
        return aware.astimezone(UTC)
    except (OverflowError, ValueError):
        return None


def _offset_minutes(value: datetime | None) -> int | None:
    """The UTC offset of an aware time in whole minutes (None when naive or unknown)."""
    offset = value.utcoffset() if value is not None else None
    return None if offset is None else int(offset.total_seconds() // 60)


def _simhash_columns(value: int | None) -> dict[str, int | None]:
    bands: tuple[int | None, ...] = simhash_bands(value) if value is not None else (None,) * 4
    return {"simhash": value, **{f"simhash_band{i}": band for i, band in enumerate(bands)}}


Reading = tuple[datetime | None, bool]
"""(reference, dated): "now" for an article as its run read it, and whether that is its own date."""


def _row(
    source_id: int, guid: str, article: Article, fetched_at: datetime, reading: Reading
) -> dict:
    url = _clean(article.url) if article.url else None
    canonical = canonical_url(url)
    reference, dated = reading
    return {
        "source_id": source_id,
        "guid": guid,
        "revision": 0,
        "url": url,
        "canonical_url": _key(canonical) if canonical else None,
        "title": _clean(article.title),
        "text": _clean(article.text),
        "published_at": _published(article.published),
        "fetched_at": fetched_at,
        "content_hash": article.content_hash,
        "raw": _clean(article.raw),
        "reference_at": _published(reference),
        "reference_offset_min": _offset_minutes(reference),
        "dated": dated,
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


@dataclass(slots=True)
class _Known:
    """What the store (and the batch so far) already holds at the batch's sources.

    latest: (source id, guid) -> (latest revision, its content hash)
    by_url: (source id, canonical URL) -> guid of the article at that URL
    dates_by_hash: (source id, content hash) -> publication dates of the texts stored with it
    """

    latest: dict[tuple[int, str], tuple[int, str]]
    by_url: dict[tuple[int, str], str]
    dates_by_hash: dict[tuple[int, str], set[datetime | None]]

    def add(self, row: dict) -> None:
        sid = row["source_id"]
        self.latest[(sid, row["guid"])] = (row["revision"], row["content_hash"])
        if row["canonical_url"]:
            self.by_url.setdefault((sid, row["canonical_url"]), row["guid"])
        self.dates_by_hash.setdefault((sid, row["content_hash"]), set()).add(row["published_at"])


Among = Callable[[Any, Sequence[Any]], Any]
"""(column, values) -> the condition `column IN values`."""


def _in_list(column: Any, values: Sequence[Any]) -> Any:
    return column.in_(values)


def _in_array(column: Any, values: Sequence[Any]) -> Any:
    return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))


def _among(session: Session) -> Among:
    """`column IN (values)` for `session`'s database: on PostgreSQL `column = ANY(array)`, one
    parameter rather than one per value, since psycopg finds each placeholder of a query in
    Python (~4 us a value; a batch of 1,000 articles asks for ~10,000 values)."""
    return _in_array if is_postgres(session) else _in_list


def _in_chunks(session: Session, query_for: Any, keys: Sequence[Any]) -> list[Any]:
    rows: list[Any] = []
    for part in chunked(sorted(set(keys))):
        rows.extend(session.execute(query_for(part)).tuples())
    return rows


def _by_source_groups(rows: Sequence[dict]) -> list[list[dict]]:
    """`rows` in groups of at most SOURCES_PER_QUERY sources each."""
    by_source: dict[int, list[dict]] = {}
    for row in rows:
        by_source.setdefault(row["source_id"], []).append(row)
    sids = sorted(by_source)
    return [
        [row for sid in group for row in by_source[sid]]
        for group in chunked(sids, SOURCES_PER_QUERY)
    ]


def _known(session: Session, rows: Sequence[dict]) -> _Known:
    """The stored articles the batch's rows could repeat: same guid, URL or content hash.

    Each query asks for up to SOURCES_PER_QUERY sources at once (`source_id IN (...) AND guid
    IN (...)`), which the (source_id, guid, revision) unique index answers by probing each
    pair; a batch from many feeds then costs a few queries, not three per source. Rows of a
    source outside the batch's (source, key) pairs are true facts too, so they do no harm.
    Re-polled feeds mostly repeat items already stored; finding them first spares hashing
    decisions and sending their bodies; the insert's ON CONFLICT still settles races.
    """
    known = _Known({}, {}, {})
    c = articles.c
    among = _among(session)
    for part_rows in _by_source_groups(rows):
        within = c.source_id.in_(sorted({r["source_id"] for r in part_rows}))
        revisions = _in_chunks(
            session,
            lambda p, within=within: select(c.source_id, c.guid, c.revision, c.content_hash).where(
                within, among(c.guid, p)
            ),
            [r["guid"] for r in part_rows],
        )
        at_urls = _in_chunks(
            session,
            lambda p, within=within: (
                select(c.source_id, c.canonical_url, c.guid, c.revision, c.content_hash)
                .where(within, among(c.canonical_url, p))
                .order_by(c.id)
            ),
            [r["canonical_url"] for r in part_rows if r["canonical_url"]],
        )
        for sid, url, guid, *_ in at_urls:
            known.by_url.setdefault((sid, url), guid)
        for sid, guid, revision, content_hash in [
            *revisions,
            *((r[0], *r[2:]) for r in at_urls),
        ]:
            if revision >= known.latest.get((sid, guid), (-1, ""))[0]:
                known.latest[(sid, guid)] = (revision, content_hash)
        for sid, content_hash, published in _in_chunks(
            session,
            lambda p, within=within: select(c.source_id, c.content_hash, c.published_at).where(
                among(c.content_hash, p), within
            ),
            [r["content_hash"] for r in part_rows],
        ):
            known.dates_by_hash.setdefault((sid, content_hash), set()).add(published)
    return known


def _is_republication(known: _Known, row: dict) -> bool:
    """A new guid with a text this source already has: the same article again, unless both
    carry dates and they differ (a flash headline reused for a new event is news)."""
    dates = known.dates_by_hash.get((row["source_id"], row["content_hash"]))
    if dates is None:
        return False
    published = row["published_at"]
    return published is None or None in dates or published in dates


def _decide(known: _Known, row: dict) -> dict | None:
    """The row to insert for an incoming item, or None when it repeats a stored text.

    A known guid (or, under a new guid, a known canonical URL) with a changed text becomes that
    article's next revision; the same text again is a no-op.
    """
    sid = row["source_id"]
    guid = row["guid"]
    if (sid, guid) not in known.latest and row["canonical_url"]:
        guid = known.by_url.get((sid, row["canonical_url"]), guid)
    latest = known.latest.get((sid, guid))
    if latest is not None:
        revision, content_hash = latest
        if content_hash == row["content_hash"]:
            return None
        return {**row, "guid": guid, "revision": revision + 1}
    if _is_republication(known, row):
        return None
    return row


def _rows_to_insert(
    keyed: Sequence[tuple[int, str, Article]],
    fetched_at: datetime,
    readings: Mapping[tuple[str, str], Reading],
) -> tuple[list[dict], list[Article]]:
    rows = []
    for source_id, guid, article in keyed:
        reading = readings.get((article.source, article.guid), (None, True))
        rows.append(_row(source_id, guid, article, fetched_at, reading))
    return rows, [article for _, _, article in keyed]


def store_articles(
    session: Session,
    source_ids: Mapping[str, int],
    articles_in: Sequence[Article],
    fetched_at: datetime,
    readings: Mapping[tuple[str, str], Reading] | None = None,
) -> StoreResult:
    """Store a batch of articles; return the ones stored now, in input order.

    An item is (source, guid). A known item with the same text is not stored again; with a
    changed text (a wire "(LEAD)" update, a corrected figure) it is stored as the item's next
    revision. A new guid at a known canonical URL counts as that URL's item. A new guid
    repeating a text the source already has is the same article again, unless both are dated
    and the dates differ: then it is a new publication (a reused flash headline), linked to the
    earlier one as a copy. Every stored row is queued for detection (`detection_queue`, state
    `pending`) with its reading from `readings`, keyed by (source name, guid as given).

    One ``INSERT ... ON CONFLICT DO NOTHING ... RETURNING`` for the batch: when another process
    stores the same (source, guid, revision) at the same moment, only the one that inserted the
    row reports it as new. New articles whose text another article already has get
    `duplicate_of_id` pointing at the earliest such article.
    """
    fetched_at = as_utc(fetched_at)
    keyed = _keyed(source_ids, articles_in)
    incoming, kept_in = _rows_to_insert(keyed, fetched_at, readings or {})
    known = _known(session, incoming)
    decided_rows: list[dict] = []
    kept: list[Article] = []
    for row, article in zip(incoming, kept_in, strict=True):
        decided = _decide(known, row)
        if decided is not None:
            known.add(decided)
            decided_rows.append(decided)
            kept.append(article)
    # SimHash only for rows to insert (re-polled feeds are mostly repeats), all in one batch.
    # Imported here: numpy's import (~60 ms) would otherwise slow every command that reads the
    # store (`developments`, `web`), not only those that store.
    from core.simhashes import simhashes

    rows = [
        {**decided, **_simhash_columns(value)}
        for decided, value in zip(decided_rows, simhashes([a.text for a in kept]), strict=True)
    ]
    if not rows:
        return StoreResult(new=[], duplicates=len(articles_in), linked=0)
    stmt = (
        insert_for(session, articles)
        .on_conflict_do_nothing()
        .returning(articles.c.id, articles.c.source_id, articles.c.guid, articles.c.revision)
    )
    # Insert in key order: two runs storing overlapping batches (in any order) then take row
    # locks in the same order on PostgreSQL, so they wait for each other instead of deadlocking.
    ordered = sorted(rows, key=lambda row: (row["source_id"], row["guid"], row["revision"]))
    inserted = {(sid, g, rev): id_ for id_, sid, g, rev in session.execute(stmt, ordered)}
    new: list[StoredArticle] = []
    new_hashes: dict[int, str] = {}
    new_simhashes: dict[int, int] = {}
    for row, article in zip(rows, kept, strict=True):
        article_id = inserted.get((row["source_id"], row["guid"], row["revision"]))
        if article_id is not None:
            new.append(StoredArticle(id=article_id, article=article, revision=row["revision"]))
            new_hashes[article_id] = row["content_hash"]
            if row["simhash"] is not None:
                new_simhashes[article_id] = row["simhash"]
    _queue_for_detection(session, rows, inserted)
    exact = _link_earlier_copies(session, new_hashes)
    near = _link_near_duplicates(
        session, {i: h for i, h in new_simhashes.items() if i not in exact}, new_simhashes
    )
    revised = sum(1 for item in new if item.revision > 0)
    return StoreResult(
        new=new,
        duplicates=len(articles_in) - len(new),
        linked=len(exact) + near,
        revised=revised,
    )


# What the detection queue copies of a stored row: its key and its reading.
_QUEUED_COLUMNS = ("guid", "source_id", "revision", "reference_at", "reference_offset_min", "dated")


def _queue_for_detection(
    session: Session, rows: Sequence[dict], inserted: Mapping[tuple[int, str, int], int]
) -> None:
    """Queue the rows this batch inserted (`inserted`: key -> id), in one statement."""
    queued = []
    for row in rows:
        article_id = inserted.get((row["source_id"], row["guid"], row["revision"]))
        if article_id is not None:
            queued.append({"article_id": article_id, **{k: row[k] for k in _QUEUED_COLUMNS}})
    if queued:
        session.execute(insert(detection_queue), queued)


def _link_duplicates(session: Session, originals: Mapping[int, int]) -> None:
    """Point each article (key) at the earlier article it repeats (value), in one statement."""
    if not originals:
        return
    stmt = (
        update(articles)
        .where(articles.c.id == bindparam("b_id"))
        .values(duplicate_of_id=bindparam("b_original"))
    )
    links = [{"b_id": copy, "b_original": original} for copy, original in originals.items()]
    session.connection().execute(stmt, links)


def _link_earlier_copies(session: Session, new_hashes: Mapping[int, str]) -> set[int]:
    """Point each new article at the earliest article with the same content (at another source,
    or a new publication of the same text at its own); return those linked."""
    if not new_hashes:
        return set()
    first: dict[str, int] = {}
    for part in chunked(sorted(set(new_hashes.values()))):
        query = (
            select(articles.c.content_hash, func.min(articles.c.id))
            .where(_among(session)(articles.c.content_hash, part))
            .group_by(articles.c.content_hash)
        )
        first.update(dict(session.execute(query).tuples().all()))
    originals = {
        article_id: first[h]
        for article_id, h in new_hashes.items()
        if first.get(h, article_id) != article_id
    }
    _link_duplicates(session, originals)
    return set(originals)


def _near_duplicate_candidates(
    session: Session, values: Sequence[int], batch_simhashes: Mapping[int, int]
) -> dict[tuple[int, int], list[tuple[int, int]]]:
    """Stored articles sharing a SimHash band with `values`, as {(band index, band value):
    [(id, simhash), ...]} so each new article is compared only with its band-mates.

    At most MAX_BAND_CANDIDATES per band value, the earliest first (links point at the
    earliest copy): a value shared by thousands of rows (one boilerplate text posted again and
    again) costs a bounded read, not the whole crowd.

    The band queries read ids only, which each band's index holds; the SimHash of a candidate
    is then read by id, except for the batch's own rows (`batch_simhashes`, id -> SimHash),
    most candidates, whose values are known. On SQLite this spares most row reads, and a row's
    SimHash lies after its text and raw fields, so reading it walks the row's overflow pages
    (~4 us a row, over half of linking near-duplicates).
    """
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
    ids_by_band: dict[tuple[int, int], list[int]] = {}
    among = _among(session)
    for i, (column, bands) in enumerate(zip(band_columns, wanted, strict=True)):
        for part in chunked(sorted(bands)):
            for article_id, band in (
                session.execute(_band_query(column, part, among)).tuples().all()
            ):
                ids_by_band.setdefault((i, band), []).append(article_id)
    simhashes = _simhashes_by_id(
        session, {i for ids in ids_by_band.values() for i in ids}, batch_simhashes
    )
    return {
        key: [(i, simhashes[i]) for i in ids if i in simhashes] for key, ids in ids_by_band.items()
    }


def _simhashes_by_id(session: Session, ids: set[int], known: Mapping[int, int]) -> dict[int, int]:
    """The SimHash of each article of `ids`: from `known` where it is there, else read (an
    article deleted meanwhile, or one without a SimHash, is left out)."""
    found = {i: known[i] for i in ids if i in known}
    among = _among(session)
    for part in chunked(sorted(ids - found.keys())):
        query = select(articles.c.id, articles.c.simhash).where(
            among(articles.c.id, part), articles.c.simhash.is_not(None)
        )
        found.update(session.execute(query).tuples().all())
    return found


def _band_query(column: Any, bands: Sequence[int], among: Among) -> Any:
    """(id, band) of the earliest MAX_BAND_CANDIDATES articles per value in `bands`."""
    rank = func.row_number().over(partition_by=column, order_by=articles.c.id)
    ranked = (
        select(articles.c.id, column.label("band"), rank.label("rank"))
        .where(among(column, bands))
        .subquery()
    )
    return select(ranked.c.id, ranked.c.band).where(ranked.c.rank <= MAX_BAND_CANDIDATES)


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


def _link_near_duplicates(
    session: Session, new_simhashes: Mapping[int, int], batch_simhashes: Mapping[int, int]
) -> int:
    """Point each new article (`new_simhashes`, id -> SimHash) at the earliest stored article
    whose SimHash is within NEAR_DUPLICATE_DISTANCE bits (the same wire copy at another outlet,
    or a lightly edited re-post); return how many were linked. Both stay stored: each is
    evidence on its own. `batch_simhashes` holds those of every row the batch inserted."""
    if not new_simhashes:
        return 0
    by_band = _near_duplicate_candidates(session, list(new_simhashes.values()), batch_simhashes)
    originals: dict[int, int] = {}
    for article_id, value in sorted(new_simhashes.items()):
        original = _earliest_near_duplicate(article_id, value, by_band)
        if original is not None:
            originals[article_id] = original
    _link_duplicates(session, originals)
    return len(originals)


def count_articles(session: Session) -> int:
    """How many articles are stored."""
    return int(session.scalar(select(func.count()).select_from(articles)) or 0)


def stored_ids(
    session: Session, source_ids: Mapping[str, int], refs: Sequence[tuple[str, str]]
) -> list[int]:
    """Ids of every stored revision of the items `refs` ((source name, guid as given)): what a
    run read, whether it stored it now or earlier. Asked SOURCES_PER_QUERY sources at a time
    (see `_known`); a guid of one source that another also uses is not theirs, so dropped."""
    wanted = {
        (source_ids[source], stored_guid(guid)) for source, guid in refs if source in source_ids
    }
    rows = [{"source_id": sid, "guid": guid} for sid, guid in wanted]
    c = articles.c
    among = _among(session)
    found: list[int] = []
    for part_rows in _by_source_groups(rows):
        within = c.source_id.in_(sorted({r["source_id"] for r in part_rows}))
        found += [
            article_id
            for article_id, sid, guid in _in_chunks(
                session,
                lambda p, within=within: select(c.id, c.source_id, c.guid).where(
                    within, among(c.guid, p)
                ),
                [r["guid"] for r in part_rows],
            )
            if (sid, guid) in wanted
        ]
    return found
