"""The entity alias table (people, states, places, weapons, organisations) and its loader.

Alias files are data (rules/entities.yaml):

    titles:  {leader: [president, prime minister], minister: [defense minister], ...}
    states:  [{name: North Korea, aliases: [DPRK, 북한], demonyms: [North Korean]}]
    people:  [{name: Ahn Gyu-back, aliases: [...], surname: Ahn, role: minister,
               country: South Korea}]
    places:  [{name: Pyongyang, aliases: [평양], country: North Korea, actor: true,
               within: ...}]
    weapons: [{name: Hwasong-18, aliases: [...], type: ICBM}]
    organizations: [{name: UN Security Council, aliases: [UNSC]}]
    regions: [korea, north-korea, japan, ...]

Regions route alerts (a subscriber tag `region:korea`): `regions` declares the names, and a
state or place carries some with `region: korea` or `region: [korea, north-korea]`. A place
without one takes its country's (or, without a country, the regions of the place it is
`within`); a person, organisation or weapon takes its country's. A region that is not declared,
or not written in lower-case words joined by hyphens, is an error at its line.

An all-capital Latin alias of up to three letters ("US", "UN") matches only in capitals, so the
pronoun "us" is not the United States.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from core.model import merge_regions
from core.yamlpos import YamlMap, YamlSeq
from detect.rules.yamlcheck import (
    Problems,
    check_keys,
    line_of,
    optional_string,
    read_document,
    string_list,
)
from detect.text.names import name_key, skeleton, split_name
from detect.text.terms import Lexicon, term_spec

EntityKind = Literal["person", "state", "place", "weapon", "org"]
ROLES = ("leader", "minister", "official", "military", "other")
_SECTIONS: dict[str, EntityKind] = {
    "people": "person",
    "states": "state",
    "places": "place",
    "weapons": "weapon",
    "organizations": "org",
}
_KEYS: dict[EntityKind, tuple[str, ...]] = {
    "person": ("name", "aliases", "surname", "role", "country"),
    "state": ("name", "aliases", "demonyms", "region"),
    "place": ("name", "aliases", "country", "actor", "within", "region"),
    "weapon": ("name", "aliases", "type", "country"),
    "org": ("name", "aliases", "country"),
}
_SHOUTED = re.compile(r"^[A-Z]{2,3}$")
# A region is a tag's value (`region:north-korea`): lower-case words joined by hyphens.
_REGION = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")


@dataclass(frozen=True, slots=True)
class Entity:
    """One named thing. `actor` is the state a place stands for ("Pyongyang said" = North
    Korea); `type` classifies weapons (ICBM, SRBM...)."""

    name: str
    kind: EntityKind
    role: str | None = None
    country: str | None = None
    surname: str | None = None
    actor: str | None = None
    type: str | None = None
    within: str | None = None
    regions: tuple[str, ...] = ()


@dataclass(slots=True)
class EntityTable:
    """Every entity, the term ids of their aliases and of person titles, and name keys for
    spelling variants (and the spellings already resolved to a person). `regions` are the
    declared region names, `region_of` the regions each entity stands for once its country or
    enclosing place is followed."""

    entities: dict[str, Entity] = field(default_factory=dict)
    regions: frozenset[str] = frozenset()
    region_of: dict[str, tuple[str, ...]] = field(default_factory=dict)
    alias_terms: dict[int, str] = field(default_factory=dict)
    title_terms: dict[int, str] = field(default_factory=dict)
    person_keys: dict[str, str] = field(default_factory=dict)
    surnames: dict[str, list[str]] = field(default_factory=dict)
    # Spelling -> known person (or None), filled by entity resolution as it reads articles.
    known_people: dict[str, Entity | None] = field(default_factory=dict, compare=False, repr=False)

    def carried_regions(self) -> frozenset[str]:
        """The regions some entity carries: a development can be in these and no others."""
        return frozenset(region for regions in self.region_of.values() for region in regions)


@dataclass(frozen=True, slots=True)
class EntityMention:
    """One mention of an entity. `role` is the role in this context ("former" for a former
    minister); `as_state` is the state a capital stands for when it acts ("Pyongyang fired")."""

    start: int
    end: int
    entity: Entity
    role: str | None
    as_state: str | None = None

    @property
    def name(self) -> str:
        """Canonical name of the entity."""
        return self.entity.name

    @property
    def kind(self) -> str:
        """Entity kind."""
        return self.entity.kind


@dataclass(slots=True)
class _Loader:
    lexicon: Lexicon
    problems: Problems
    table: EntityTable = field(default_factory=EntityTable)
    alias_owner: dict[str, str] = field(default_factory=dict)
    pending_refs: list[tuple[str, str, str, int | None]] = field(default_factory=list)
    declared_regions: dict[str, None] = field(default_factory=dict)
    pending_regions: list[tuple[str, str, int | None]] = field(default_factory=list)

    def load(self, path: str, text: str) -> None:
        document = read_document(self.problems, path, text)
        if document is None:
            return
        if not isinstance(document, YamlMap):
            self.problems.add(
                path, "an alias file must be a mapping of sections", line_of(document, 0)
            )
            return
        check_keys(self.problems, path, document, ["titles", "regions", *_SECTIONS], "alias file")
        if "titles" in document:
            self.titles(path, document)
        for region, line in string_list(self.problems, path, document, "regions", "regions"):
            self.declare_region(path, region, line)
        for section, kind in _SECTIONS.items():
            entries = document.get(section)
            if entries is None:
                continue
            if not isinstance(entries, YamlSeq):
                self.problems.add(path, f"{section} must be a list", document.line_of(section))
                continue
            for index, entry in enumerate(entries):
                self.entry(path, kind, entry, entries.line_of(index))

    def titles(self, path: str, document: YamlMap) -> None:
        titles = document["titles"]
        if not isinstance(titles, YamlMap):
            self.problems.add(
                path, "titles must map a role to a list of titles", document.line_of("titles")
            )
            return
        for role in titles:
            if role not in ROLES:
                self.problems.add(
                    path,
                    f"unknown role {role!r} (allowed: {', '.join(ROLES)})",
                    titles.line_of(role),
                )
                continue
            for title, _line in string_list(self.problems, path, titles, role, f"titles of {role}"):
                self.table.title_terms[self.lexicon.add(term_spec(title))] = role

    def declare_region(self, path: str, region: str, line: int | None) -> None:
        if not _REGION.match(region):
            self.problems.add(path, _malformed_region(region), line)
        elif region in self.declared_regions:
            self.problems.add(path, f"region {region!r} is declared twice", line)
        else:
            self.declared_regions[region] = None

    def entity_regions(self, path: str, name: str, entry: YamlMap) -> tuple[str, ...]:
        """The regions an entry carries itself; each is checked against the declared ones once
        every alias file is read."""
        regions: dict[str, None] = {}
        for region, line in string_list(self.problems, path, entry, "region", f"region of {name}"):
            if not _REGION.match(region):
                self.problems.add(path, _malformed_region(region), line)
                continue
            regions[region] = None
            self.pending_regions.append((path, region, line))
        return tuple(regions)

    def entry(self, path: str, kind: EntityKind, entry: Any, line: int | None) -> None:
        if not isinstance(entry, YamlMap):
            self.problems.add(path, f"each {kind} must be a mapping with a name", line)
            return
        check_keys(self.problems, path, entry, _KEYS[kind], kind)
        name = optional_string(self.problems, path, entry, "name", f"{kind} name")
        if name is None:
            if "name" not in entry:
                self.problems.add(path, f"{kind} needs a name", entry.line)
            return
        if name in self.table.entities:
            self.problems.add(path, f"duplicate entity {name!r}", entry.line_of("name"))
            return
        entity = self.build(path, kind, name, entry)
        self.table.entities[name] = entity
        aliases: list[tuple[str, int | None]] = [(name, entry.line_of("name"))]
        aliases += string_list(self.problems, path, entry, "aliases", f"aliases of {name}")
        aliases += string_list(self.problems, path, entry, "demonyms", f"demonyms of {name}")
        for alias, alias_line in aliases:
            self.alias(path, entity, alias, alias_line)

    def build(self, path: str, kind: EntityKind, name: str, entry: YamlMap) -> Entity:
        role = optional_string(self.problems, path, entry, "role", "role")
        if role is not None and role not in ROLES:
            self.problems.add(
                path, f"unknown role {role!r} (allowed: {', '.join(ROLES)})", entry.line_of("role")
            )
        country = optional_string(self.problems, path, entry, "country", "country")
        if country is not None:
            self.pending_refs.append((path, country, "state", entry.line_of("country")))
        within = optional_string(self.problems, path, entry, "within", "within")
        if within is not None:
            self.pending_refs.append((path, within, "place", entry.line_of("within")))
        actor = entry.get("actor")
        if actor is not None and not isinstance(actor, bool):
            self.problems.add(path, "actor must be true or false", entry.line_of("actor"))
        if actor is True and country is None:
            self.problems.add(
                path, "a place that stands for an actor needs a country", entry.line_of("actor")
            )
        surname = optional_string(self.problems, path, entry, "surname", "surname")
        if kind == "person" and surname is None:
            surname = split_name(name)[-1]
        return Entity(
            name=name,
            kind=kind,
            role=role,
            country=country,
            surname=surname,
            actor=country if actor is True else None,
            type=optional_string(self.problems, path, entry, "type", "type")
            or (name if kind == "weapon" else None),
            within=within,
            regions=self.entity_regions(path, name, entry),
        )

    def alias(self, path: str, entity: Entity, alias: str, line: int | None) -> None:
        spec = term_spec(alias, frozenset({"case"}) if _SHOUTED.match(alias) else frozenset())
        if not spec.pattern.strip():
            self.problems.add(path, f"empty alias for {entity.name!r}", line)
            return
        owner = self.alias_owner.setdefault(f"{spec.pattern}|{spec.case}", entity.name)
        if owner != entity.name:
            self.problems.add(
                path, f"alias {alias!r} of {entity.name!r} is already an alias of {owner!r}", line
            )
            return
        self.table.alias_terms[self.lexicon.add(spec)] = entity.name
        if entity.kind == "person":
            self.table.person_keys.setdefault(name_key(alias), entity.name)
            if entity.surname and alias == entity.name:
                names = self.table.surnames.setdefault(skeleton(entity.surname), [])
                names.append(entity.name)

    def check_references(self) -> None:
        for path, name, kind, line in self.pending_refs:
            entity = self.table.entities.get(name)
            if entity is None or entity.kind != kind:
                self.problems.add(path, f"{name!r} is not a known {kind}", line)
        for path, region, line in self.pending_regions:
            if region not in self.declared_regions:
                close = difflib.get_close_matches(region, list(self.declared_regions), n=1)
                hint = f"did you mean {close[0]!r}?" if close else "declare it under regions:"
                self.problems.add(path, f"unknown region {region!r} ({hint})", line)

    def resolve_regions(self) -> None:
        """Each entity's regions: its own, else its country's, else those of the place it is
        within (followed at most a few steps: `within` may chain, and must not loop)."""
        self.table.regions = frozenset(self.declared_regions)
        for name in self.table.entities:
            regions = self.own_or_inherited(name, depth=4)
            if regions:
                self.table.region_of[name] = regions

    def own_or_inherited(self, name: str, depth: int) -> tuple[str, ...]:
        entity = self.table.entities.get(name)
        if entity is None or depth == 0:
            return ()
        known = tuple(r for r in entity.regions if r in self.declared_regions)
        if known:
            return known
        for parent in (entity.country, entity.within):
            inherited = self.own_or_inherited(parent, depth - 1) if parent else ()
            if inherited:
                return inherited
        return ()


def _malformed_region(region: str) -> str:
    return f"malformed region {region!r} (lower-case words joined by hyphens, e.g. 'north-korea')"


def load_entities(docs: Mapping[str, str], lexicon: Lexicon, problems: Problems) -> EntityTable:
    """The merged alias table of every alias file; errors go to `problems`."""
    loader = _Loader(lexicon, problems)
    for path, text in docs.items():
        loader.load(path, text)
    loader.check_references()
    loader.resolve_regions()
    return loader.table


def regions_of(table: EntityTable, names: Iterable[str | None]) -> tuple[str, ...]:
    """The sorted regions the named entities stand for; names that carry none add nothing."""
    return merge_regions(*(table.region_of.get(name, ()) for name in names if name))
