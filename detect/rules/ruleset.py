"""Compiled rules: what `load_ruleset` builds from the YAML files and `detect` runs."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal, get_args

from core.model import Level, Status
from detect.rules.aliases import EntityTable
from detect.rules.conditions import Node
from detect.text.names import skeleton, split_name
from detect.text.sentences import Part
from detect.text.terms import Matcher

# What a rule's inline example sentence must make of it.
ExampleKind = Literal["positive", "negative", "planned", "background"]
CueKind = Literal[
    "planned",
    "occurred",
    "cancelled",
    "background",
    "background_before",
    "background_after",
    "modal",
    "pair",
    "hypothetical",
    "recent",
    "negation",
    "reporting",
    "locative",
    "former",
]
STATUS_CUES: tuple[Status, ...] = ("planned", "occurred", "cancelled")
RULE_CUE_KINDS: tuple[CueKind, ...] = ("background", "background_before", "background_after")
# The shared cue file lists every other kind; its status cues sit apart, under `status`.
COMMON_CUE_KINDS: tuple[CueKind, ...] = tuple(
    kind for kind in get_args(CueKind) if kind not in STATUS_CUES
)
COMMON = -1  # owner of the shared cues, where a rule index would be


@dataclass(frozen=True, slots=True)
class SelectionSpec:
    """A named selection. Term parts: `any` (one of), `all` (each of), `none` (none of).
    Entity part: at least `min_count` distinct entities of `entity_kinds` or named in
    `entity_names`, with a role in `roles` when given; a selection of terms only needs
    `min_count` separate occurrences. Every part given must hold."""

    name: str
    any_terms: frozenset[int] = frozenset()
    all_terms: frozenset[int] = frozenset()
    none_terms: frozenset[int] = frozenset()
    entity_kinds: frozenset[str] = frozenset()
    entity_names: frozenset[str] = frozenset()
    roles: frozenset[str] = frozenset()
    min_count: int = 1

    @property
    def uses_entities(self) -> bool:
        """Whether the selection matches entity mentions."""
        return bool(self.entity_kinds or self.entity_names)

    @property
    def terms(self) -> frozenset[int]:
        """Every term id the selection looks for."""
        return self.any_terms | self.all_terms | self.none_terms


@dataclass(frozen=True, slots=True)
class ActorSpec:
    """Which entity mentions of an event are its actors. `agent` keeps the one acting: the
    nearest preceding the anchor not across a reporting verb, else the state of the place the
    event came from. With `only`, an event whose actors include none of those names is not one
    of the rule's ("a satellite launch" counts only when North Korea launches it)."""

    kinds: frozenset[str] = frozenset({"state", "person"})
    roles: frozenset[str] = frozenset()
    mode: Literal["all", "agent"] = "all"
    only: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class FactSpec:
    """A fact to extract: a built-in extractor, or regexes whose `value` group (else the first
    group, else the whole match) is the value; `lower` writes it in lower case."""

    name: str
    builtin: bool = True
    patterns: tuple[re.Pattern[str], ...] = ()
    many: bool = False
    type: Literal["str", "int", "float"] = "str"
    lower: bool = False


@dataclass(frozen=True, slots=True)
class Example:
    """One example sentence and what the rule must make of it."""

    text: str
    expect: ExampleKind
    line: int | None


@dataclass(frozen=True, slots=True)
class Rule:
    """One compiled rule."""

    id: str
    category: str
    title: str
    level: Level
    tags: tuple[str, ...]
    scope: frozenset[Part]
    selections: dict[str, SelectionSpec]
    condition: Node
    condition_text: str
    positive: frozenset[str]  # selections the condition uses outside any `not`
    anchors: tuple[str, ...]
    actors: ActorSpec
    identity: frozenset[str]
    default_status: Status
    support: Node | None
    support_terms: frozenset[str]  # term selections the support condition needs one of
    facts: tuple[FactSpec, ...]
    examples: tuple[Example, ...]
    path: str
    line: int | None


@dataclass(frozen=True, slots=True)
class EntityCues:
    """Term ids of the cue lists entity resolution needs (from the shared cue file)."""

    locative: frozenset[int]
    former: frozenset[int]


@dataclass(slots=True)
class RuleSet:
    """Every rule, compiled into one matcher with the cue lists and the entity table."""

    rules: tuple[Rule, ...]
    matcher: Matcher
    entities: EntityTable
    entity_cues: EntityCues
    # term id -> (rule index, selection name) for every selection that uses the term
    selection_users: dict[int, list[tuple[int, str]]] = field(default_factory=dict)
    # term id -> (owner: rule index or COMMON, cue kind)
    cue_users: dict[int, list[tuple[int, CueKind]]] = field(default_factory=dict)
    # term id -> indices of the rules for which it is an anchor (an event word)
    anchor_rules: dict[int, list[int]] = field(default_factory=dict)
    # term id -> (selection users, cue users, anchor rules): the three in one look-up per hit
    term_uses: dict[int, tuple[list[tuple[int, str]], list[tuple[int, CueKind]], list[int]]] = (
        field(default_factory=dict)
    )
    # The anchor terms alone (~300 of ~3,400 terms, ~1.5 hits per news article instead of ~95):
    # whether an article holds any rule's event word, at a fraction of the whole matcher's cost.
    anchor_matcher: Matcher = field(init=False, repr=False)
    # rule index -> whether a selection of the rule is made of entities
    uses_entities: tuple[bool, ...] = field(init=False, repr=False)
    # The title terms alone ("Defense Minister", "장관"): where a name of an unknown person
    # could be introduced (`detect.engine.nameable`).
    title_matcher: Matcher = field(init=False, repr=False)
    # The skeletons a known person's surname has (`resolve_entities` reads a capitalised word
    # with one of them as that person, once the article has named them).
    person_surnames: frozenset[str] = field(init=False, repr=False)
    # rule index -> the term ids of the selections its support condition needs one of
    # (`Rule.support_terms`): which sentences could support an event, read off their hits.
    support_term_ids: dict[int, frozenset[int]] = field(init=False, repr=False)
    # (rule index, selections with terms, any entity) -> whether the rule's condition could
    # hold in such a sentence: filled by detection as it reads (detect/engine/detector.py).
    possible_memo: dict[tuple[int, frozenset[str], bool], bool] = field(
        default_factory=dict, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        self.anchor_matcher = Matcher(self.matcher.specs, only=frozenset(self.anchor_rules))
        self.uses_entities = tuple(
            any(spec.uses_entities for spec in rule.selections.values()) for rule in self.rules
        )
        self.title_matcher = Matcher(self.matcher.specs, only=frozenset(self.entities.title_terms))
        self.person_surnames = frozenset(self.entities.surnames) | {
            skeleton(entity.surname or split_name(entity.name)[-1])
            for entity in self.entities.entities.values()
            if entity.kind == "person"
        }
        self.support_term_ids = {
            index: frozenset(
                term
                for term, users in self.selection_users.items()
                if any(owner == index and name in rule.support_terms for owner, name in users)
            )
            for index, rule in enumerate(self.rules)
        }
        for term in self.selection_users.keys() | self.cue_users.keys():
            self.term_uses[term] = (
                self.selection_users.get(term, []),
                self.cue_users.get(term, []),
                self.anchor_rules.get(term, []),
            )

    def term_text(self, term: int) -> str:
        """A term as written in the rule or alias file."""
        return self.matcher.specs[term].text
