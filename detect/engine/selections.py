"""Selections of a rule evaluated on the hits and entities of a sentence or of one event's part
of it: which hold, at which word positions, and with which terms (for `explain`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from detect.rules.aliases import EntityMention
from detect.rules.ruleset import CueKind, RuleSet, SelectionSpec
from detect.text.terms import Hit

State = tuple[dict[str, bool], dict[str, list[int]], dict[str, tuple[str, ...]]]


def selection_state(
    selections: Mapping[str, SelectionSpec],
    hits: Sequence[tuple[Hit, str]],
    entities: Sequence[EntityMention],
    ruleset: RuleSet,
    token: Callable[[int], int],
) -> State:
    """(present, word positions, terms shown) of every selection, given (hit, selection name)
    pairs and entity mentions."""
    present: dict[str, bool] = {}
    positions: dict[str, list[int]] = {}
    shown: dict[str, tuple[str, ...]] = {}
    by_name: dict[str, list[Hit]] = {}
    for hit, name in hits:
        by_name.setdefault(name, []).append(hit)
    for name, spec in selections.items():
        own = by_name.get(name, [])
        if not own and not spec.uses_entities:
            # Nothing found: true only for a pure `none` selection.
            present[name] = bool(spec.none_terms) and not (spec.any_terms or spec.all_terms)
            positions[name], shown[name] = [], ()
            continue
        present[name], positions[name], shown[name] = _selection(
            spec, own, entities, ruleset, token
        )
    return present, positions, shown


def outermost(cues: list[tuple[Hit, int, CueKind]]) -> list[tuple[Hit, int, CueKind]]:
    """Cues not inside a longer cue: "held" in "will be held" is not a cue of its own."""
    inside = _inside([cue[0] for cue in cues], lambda a, b: (a.start, a.end) != (b.start, b.end))
    return [cue for cue, covered in zip(cues, inside, strict=True) if not covered]


def outermost_hits(hits: Sequence[Hit]) -> list[Hit]:
    """Hits not inside a longer one: "外交部长" is one minister, not also "外长"."""
    inside = _inside(hits, lambda a, b: a != b)
    return [hit for hit, covered in zip(hits, inside, strict=True) if not covered]


def _inside(hits: Sequence[Hit], distinct: Callable[[Hit, Hit], bool]) -> list[bool]:
    """Per hit, whether another hit that is `distinct` from it covers it. Sorted by start, a hit
    is covered by one that starts before it and ends no earlier (the furthest end so far
    tells), or by one that starts with it: a sentence full of cues costs n log n, not n²."""
    order = sorted(range(len(hits)), key=lambda i: hits[i].start)
    covered = [False] * len(hits)
    furthest = -1  # the furthest end of the hits starting before the current group
    group_from = 0
    while group_from < len(order):
        start = hits[order[group_from]].start
        group_to = group_from
        while group_to < len(order) and hits[order[group_to]].start == start:
            group_to += 1
        group = [hits[i] for i in order[group_from:group_to]]
        for i, hit in zip(order[group_from:group_to], group, strict=True):
            covered[i] = furthest >= hit.end or any(
                o.end >= hit.end and distinct(o, hit) for o in group
            )
        furthest = max(furthest, *(h.end for h in group))
        group_from = group_to
    return covered


def _selection(
    spec: SelectionSpec,
    hits: Sequence[Hit],
    entities: Sequence[EntityMention],
    ruleset: RuleSet,
    token: Callable[[int], int],
) -> tuple[bool, list[int], tuple[str, ...]]:
    ok = True
    positions: list[int] = []
    shown: list[str] = []
    if spec.any_terms or spec.all_terms or spec.none_terms:
        found = {h.term for h in hits}
        chosen = [h for h in hits if h.term in spec.any_terms or h.term in spec.all_terms]
        if spec.any_terms and not found & spec.any_terms:
            ok = False
        if spec.all_terms and not spec.all_terms <= found:
            ok = False
        if found & spec.none_terms:
            ok = False
        if spec.min_count > 1 and not spec.uses_entities:
            ok = ok and len(outermost_hits(chosen)) >= spec.min_count
        positions += [token(h.start) for h in chosen]
        shown += [ruleset.term_text(h.term) for h in chosen]
    if spec.uses_entities:
        fitting = [(e, name) for e in entities if (name := _entity_fit(spec, e))]
        if len({name for _e, name in fitting}) < spec.min_count:
            ok = False
        positions += [token(e.start) for e, _name in fitting]
        shown += [name for _e, name in fitting]
    return ok, positions, tuple(dict.fromkeys(shown))


def _entity_fit(spec: SelectionSpec, entity: EntityMention) -> str | None:
    """The name under which `entity` fits the selection: a capital that acts may fit as its
    state, and so may a person of a known country ("Lee will visit Japan": two states)."""
    if spec.roles and entity.kind == "person" and entity.role not in spec.roles:
        return None
    if entity.name in spec.entity_names or entity.kind in spec.entity_kinds:
        return entity.name
    state = entity.as_state or (entity.entity.country if entity.kind == "person" else None)
    if state and ("state" in spec.entity_kinds or state in spec.entity_names):
        return state
    return None
