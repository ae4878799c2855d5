"""The bare floor: what storing and matching the same texts costs with nothing around it.

One pyahocorasick automaton holds every literal term of the loaded rules; one pass over each
text's word view (lower-cased, non-word characters as spaces) finds them on word boundaries. One
``INSERT ... ON CONFLICT DO NOTHING`` stores every text in one transaction. The replay flow does
more than this (parsing, sentences, entities, dates, facts, developments, alerts, Prefect), so the
ratio of the two says how much of the machine the pipeline's extra work takes.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass

import ahocorasick
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

import db
import detect


@dataclass(frozen=True, slots=True)
class FloorTiming:
    """Seconds spent matching and inserting `count` texts, and what was found."""

    count: int
    match_s: float
    insert_s: float
    hits: int
    inserted: int

    @property
    def total_s(self) -> float:
        """Matching plus inserting."""
        return self.match_s + self.insert_s

    @property
    def per_s(self) -> float:
        """Texts per second through both."""
        return self.count / self.total_s if self.total_s else 0.0


_NOT_WORD = re.compile(r"[\W_]+")


def rule_terms(ruleset: detect.RuleSet) -> list[tuple[str, bool]]:
    """(term, is a prefix) for every literal (non-regex) term of the loaded rules, cue lists
    and alias tables, as the rules' matcher normalised them."""
    return sorted({(spec.pattern, spec.prefix) for spec in ruleset.matcher.specs if not spec.regex})


def build_automaton(terms: Sequence[tuple[str, bool]]) -> ahocorasick.Automaton:
    """One Aho-Corasick automaton over `terms`. Latin terms are keyed with the spaces that
    surround a whole word in `word_view` (a prefix term only with the leading one), so matching
    needs no boundary check per hit; CJK terms are keyed as they are (substrings)."""
    automaton = ahocorasick.Automaton()
    for term, prefix in terms:
        key = term if not term.isascii() else f" {term}" + ("" if prefix else " ")
        automaton.add_word(key, len(key))
    automaton.make_automaton()
    return automaton


def word_view(text: str) -> str:
    """`text` lower-cased, every run of non-word characters one space, padded with spaces."""
    return f" {_NOT_WORD.sub(' ', text.lower())} "


def count_hits(automaton: ahocorasick.Automaton, text: str) -> int:
    """Term occurrences in `text`: one automaton pass over its word view."""
    return sum(1 for _ in automaton.iter(word_view(text)))


def match_pass(automaton: ahocorasick.Automaton, texts: Sequence[str]) -> tuple[float, int]:
    """(seconds, hits) for one pass over every text."""
    start = time.perf_counter()
    hits = sum(count_hits(automaton, text) for text in texts)
    return time.perf_counter() - start, hits


_metadata = sa.MetaData()
FLOOR_TABLE = sa.Table(
    "floor_articles",
    _metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("guid", sa.Text, nullable=False, unique=True),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("text", sa.Text, nullable=False),
)


def bulk_insert(database_url: str, rows: Sequence[dict[str, str]]) -> tuple[float, int]:
    """(seconds, rows inserted) for one ``INSERT ... ON CONFLICT DO NOTHING`` of `rows` in one
    transaction, on a fresh `floor_articles` table of `database_url` (same engine settings as
    the store: WAL and synchronous=NORMAL on SQLite)."""
    engine = db.create_engine_for(database_url)
    try:
        _metadata.drop_all(engine)
        _metadata.create_all(engine)
        dialect = postgresql if engine.dialect.name == "postgresql" else sqlite
        stmt = dialect.insert(FLOOR_TABLE).on_conflict_do_nothing(index_elements=["guid"])
        start = time.perf_counter()
        with engine.begin() as connection:
            connection.execute(stmt, list(rows))
        elapsed = time.perf_counter() - start
        with engine.connect() as connection:
            inserted = connection.scalar(sa.select(sa.func.count()).select_from(FLOOR_TABLE))
            _metadata.drop_all(connection)
            connection.commit()
        return elapsed, int(inserted or 0)
    finally:
        engine.dispose()


def measure_floor(
    ruleset: detect.RuleSet, database_url: str, rows: Sequence[dict[str, str]]
) -> FloorTiming:
    """The floor for `rows` (guid, title, text): one matcher pass plus one bulk insert."""
    automaton = build_automaton(rule_terms(ruleset))
    match_s, hits = match_pass(automaton, [f"{r['title']}\n{r['text']}" for r in rows])
    insert_s, inserted = bulk_insert(database_url, rows)
    return FloorTiming(len(rows), match_s, insert_s, hits, inserted)
