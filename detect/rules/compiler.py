"""Rule files -> compiled `Rule`s, every problem reported with its file and line.

A rule file holds one rule (a mapping with an `id`), a list of rules, or the shared cue lists
(a mapping with the single key `common`). See rules/README.md for the schema.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TypeVar, cast, get_args

from core.model import LEVELS, STATUSES, Level, Status
from core.yamlpos import YamlMap, YamlSeq
from detect.rules.conditions import (
    ConditionSyntaxError,
    Node,
    names_in,
    parse_condition,
    positive_names,
)
from detect.rules.facts import BUILTINS, DERIVED
from detect.rules.regexrisk import backtracking_risk
from detect.rules.ruleset import (
    COMMON,
    COMMON_CUE_KINDS,
    RULE_CUE_KINDS,
    STATUS_CUES,
    ActorSpec,
    CueKind,
    Example,
    ExampleKind,
    FactSpec,
    Rule,
    SelectionSpec,
)
from detect.rules.templates import FIXED_FIELDS, template_fields
from detect.rules.yamlcheck import (
    Problems,
    check_keys,
    optional_string,
    read_document,
    string_list,
)
from detect.text.sentences import Part
from detect.text.terms import Lexicon, term_spec

RULE_KEYS = (
    "id",
    "category",
    "title",
    "description",
    "level",
    "tags",
    "scope",
    "window",
    "selections",
    "condition",
    "anchor",
    "actors",
    "identity",
    "status",
    "default_status",
    "background",
    "background_before",
    "background_after",
    "support",
    "facts",
    "examples",
)
SELECTION_KEYS = ("any", "all", "none", "entities", "roles", "min", "modifiers")
MODIFIERS = ("word", "substring", "case", "regex")
ENTITY_KINDS = ("person", "state", "place", "weapon", "org")
IDENTITY = ("date", "actors", "place")
EXAMPLE_KINDS: tuple[ExampleKind, ...] = get_args(ExampleKind)
_ID = re.compile(r"^[a-z][a-z0-9_]*$")
# How a rule uses a term: a selection's name, or a status cue's kind.
_Use = TypeVar("_Use")


@dataclass(slots=True)
class Compiled:
    """What the rule files produced: rules, and which terms each rule and cue list uses."""

    rules: list[Rule] = field(default_factory=list)
    selection_users: dict[int, list[tuple[int, str]]] = field(default_factory=dict)
    cue_users: dict[int, list[tuple[int, CueKind]]] = field(default_factory=dict)
    rule_ids: dict[str, tuple[str, int | None]] = field(default_factory=dict)
    common_seen: str | None = None


class _Compiler:
    def __init__(self, lexicon: Lexicon, problems: Problems) -> None:
        self.lexicon = lexicon
        self.problems = problems
        self.out = Compiled()

    # --- files ---------------------------------------------------------------------------

    def file(self, path: str, text: str) -> None:
        document = read_document(self.problems, path, text)
        if document is None:
            return
        if isinstance(document, YamlMap) and "common" in document:
            self.common(path, document)
        elif isinstance(document, YamlMap):
            self.rule(path, document)
        elif isinstance(document, YamlSeq):
            for index, item in enumerate(document):
                if isinstance(item, YamlMap):
                    self.rule(path, item)
                else:
                    self.problems.add(path, "each rule must be a mapping", document.line_of(index))
        else:
            self.problems.add(path, "a rule file holds a rule, a list of rules or `common` cues")

    def common(self, path: str, document: YamlMap) -> None:
        check_keys(self.problems, path, document, ["common"], "shared cue file")
        if self.out.common_seen is not None:
            self.problems.add(
                path, f"shared cues are already defined in {self.out.common_seen}", document.line
            )
            return
        self.out.common_seen = path
        cues = document["common"]
        if not isinstance(cues, YamlMap):
            self.problems.add(
                path, "common must be a mapping of cue lists", document.line_of("common")
            )
            return
        check_keys(self.problems, path, cues, ("status", *COMMON_CUE_KINDS), "common")
        self.status_cues(path, cues, COMMON)
        for kind in COMMON_CUE_KINDS:
            self.cues(path, cues, kind, COMMON, kind)

    def cues(self, path: str, parent: YamlMap, key: str, owner: int, kind: CueKind) -> None:
        for term, line in string_list(self.problems, path, parent, key, f"{key} cues"):
            term_id = self.term(path, term, frozenset(), line)
            if term_id is not None:
                self.out.cue_users.setdefault(term_id, []).append((owner, kind))

    def status_cues(self, path: str, parent: YamlMap, owner: int) -> None:
        status = parent.get("status")
        if status is None:
            return
        if not isinstance(status, YamlMap):
            self.problems.add(
                path, "status must map planned/occurred/cancelled to cues", parent.line_of("status")
            )
            return
        check_keys(self.problems, path, status, STATUS_CUES, "status")
        for kind in STATUS_CUES:
            self.cues(path, status, kind, owner, kind)

    def term(self, path: str, raw: str, modifiers: frozenset[str], line: int | None) -> int | None:
        if "regex" in modifiers:
            flags = 0 if "case" in modifiers else re.IGNORECASE
            if not self.safe_regex(path, raw, flags, line):
                return None
        spec = term_spec(raw, modifiers)
        if not spec.pattern.strip():
            self.problems.add(path, f"empty term {raw!r}", line)
            return None
        return self.lexicon.add(spec)

    def safe_regex(self, path: str, raw: str, flags: int, line: int | None) -> bool:
        """Whether `raw` compiles and cannot backtrack catastrophically (else a problem)."""
        try:
            re.compile(raw, flags)
        except re.error as exc:
            self.problems.add(path, f"bad regex {raw!r}: {exc}", line)
            return False
        risk = backtracking_risk(raw, flags)
        if risk is not None:
            self.problems.add(path, f"regex {raw!r} can backtrack catastrophically: {risk}", line)
            return False
        return True

    # --- one rule ------------------------------------------------------------------------

    def rule(self, path: str, data: YamlMap) -> None:
        before = len(self.problems.errors)
        check_keys(self.problems, path, data, RULE_KEYS, "rule")
        rule_id = self.identifier(path, data, "id")
        category = self.identifier(path, data, "category")
        index = len(self.out.rules)
        selections = self.selections(path, data, index)
        condition = self.condition(path, data, "condition", selections, required=True)
        support = self.condition(path, data, "support", selections, required=False)
        facts = self.facts(path, data)
        title = self.title(path, data, facts)
        self.status_cues(path, data, index)
        for kind in RULE_CUE_KINDS:
            self.cues(path, data, kind, index, kind)
        anchors = self.anchors(path, data, condition, selections)
        values = {
            "level": self.choice(path, data, "level", LEVELS, "medium"),
            "default_status": self.choice(path, data, "default_status", STATUSES, "occurred"),
            "scope": self.scope(path, data),
            "actors": self.actor_spec(path, data),
            "identity": self.identity(path, data),
            "tags": tuple(t for t, _ in string_list(self.problems, path, data, "tags", "tags")),
            "examples": self.examples(path, data),
        }
        self.window(path, data)
        if rule_id and rule_id in self.out.rule_ids:
            other, other_line = self.out.rule_ids[rule_id]
            self.problems.add(
                path,
                f"duplicate rule id {rule_id!r} (also in {other}:{other_line})",
                data.line_of("id"),
            )
        if len(self.problems.errors) > before or not (rule_id and category and condition and title):
            self.forget(index)
            return
        self.out.rule_ids[rule_id] = (path, data.line_of("id"))
        self.out.rules.append(
            Rule(
                id=rule_id,
                category=category,
                title=title,
                level=cast(Level, values["level"]),
                tags=cast(tuple[str, ...], values["tags"]),
                scope=cast(frozenset[Part], values["scope"]),
                selections=selections,
                condition=condition,
                condition_text=str(data["condition"]),
                positive=frozenset(positive_names(condition)),
                anchors=anchors,
                actors=cast(ActorSpec, values["actors"]),
                identity=cast(frozenset[str], values["identity"]),
                default_status=cast(Status, values["default_status"]),
                support=support,
                support_terms=_support_terms(support, selections),
                facts=facts,
                examples=cast(tuple[Example, ...], values["examples"]),
                path=path,
                line=data.line,
            )
        )

    def forget(self, index: int) -> None:
        """Drop the term uses of a rule that did not compile: its index goes to the next rule."""
        _drop_rule(self.out.selection_users, index)
        _drop_rule(self.out.cue_users, index)

    def identifier(self, path: str, data: YamlMap, key: str) -> str | None:
        value = data.get(key)
        if value is None:
            self.problems.add(path, f"rule needs {key!r}", data.line)
            return None
        if not isinstance(value, str) or not _ID.match(value):
            self.problems.add(
                path, f"{key} must be lower_snake_case, got {value!r}", data.line_of(key)
            )
            return None
        return value

    def choice(
        self, path: str, data: YamlMap, key: str, allowed: tuple[str, ...], default: str
    ) -> str:
        value = data.get(key, default)
        if value not in allowed:
            self.problems.add(
                path, f"{key} must be one of {', '.join(allowed)}, got {value!r}", data.line_of(key)
            )
            return default
        return str(value)

    def scope(self, path: str, data: YamlMap) -> frozenset[str]:
        parts = [p for p, _ in string_list(self.problems, path, data, "scope", "scope")]
        for part in parts:
            if part not in ("title", "body"):
                self.problems.add(
                    path, f"scope may hold title and body, got {part!r}", data.line_of("scope")
                )
        return frozenset(parts or ("title", "body"))

    def window(self, path: str, data: YamlMap) -> None:
        if data.get("window", "sentence") != "sentence":
            self.problems.add(path, "window must be 'sentence'", data.line_of("window"))

    def identity(self, path: str, data: YamlMap) -> frozenset[str]:
        if "identity" not in data:
            return frozenset(IDENTITY)
        parts = [p for p, _ in string_list(self.problems, path, data, "identity", "identity")]
        for part in parts:
            if part not in IDENTITY:
                self.problems.add(
                    path,
                    f"identity may hold {', '.join(IDENTITY)}, got {part!r}",
                    data.line_of("identity"),
                )
        return frozenset(parts)

    def selections(self, path: str, data: YamlMap, index: int) -> dict[str, SelectionSpec]:
        raw = data.get("selections")
        if not isinstance(raw, YamlMap) or not raw:
            self.problems.add(
                path,
                "rule needs 'selections': a mapping of named term lists",
                data.line_of("selections"),
            )
            return {}
        found = {}
        for name, body in raw.items():
            if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", name) or name in (
                "and",
                "or",
                "not",
                "near",
            ):
                self.problems.add(path, f"bad selection name {name!r}", raw.line_of(name))
                continue
            if isinstance(body, YamlSeq):
                body = _as_any(body)
            if not isinstance(body, YamlMap):
                self.problems.add(
                    path,
                    f"selection {name!r} must be a list of terms or a mapping",
                    raw.line_of(name),
                )
                continue
            selection = self.selection(path, name, body, index)
            if selection is not None:
                found[name] = selection
        return found

    def selection(self, path: str, name: str, body: YamlMap, index: int) -> SelectionSpec | None:
        check_keys(self.problems, path, body, SELECTION_KEYS, f"selection {name!r}")
        modifiers = frozenset(
            m for m, _ in string_list(self.problems, path, body, "modifiers", "modifiers")
        )
        for modifier in modifiers - set(MODIFIERS):
            self.problems.add(
                path,
                f"unknown modifier {modifier!r} (allowed: {', '.join(MODIFIERS)})",
                body.line_of("modifiers"),
            )
        terms: dict[str, frozenset[int]] = {}
        for key in ("any", "all", "none"):
            ids = set()
            for raw, line in string_list(self.problems, path, body, key, f"{name}.{key}"):
                term_id = self.term(path, raw, modifiers, line)
                if term_id is not None:
                    ids.add(term_id)
                    self.out.selection_users.setdefault(term_id, []).append((index, name))
            terms[key] = frozenset(ids)
        kinds: set[str] = set()
        names: set[str] = set()
        for entity, _line in string_list(self.problems, path, body, "entities", f"{name}.entities"):
            (kinds if entity in ENTITY_KINDS else names).add(entity)
        roles = frozenset(
            r for r, _ in string_list(self.problems, path, body, "roles", f"{name}.roles")
        )
        minimum = body.get("min", 1)
        if not isinstance(minimum, int) or isinstance(minimum, bool) or minimum < 1:
            self.problems.add(path, "min must be a positive whole number", body.line_of("min"))
            minimum = 1
        if not (terms["any"] or terms["all"] or terms["none"] or kinds or names):
            self.problems.add(path, f"selection {name!r} has no terms or entities", body.line)
            return None
        return SelectionSpec(
            name,
            terms["any"],
            terms["all"],
            terms["none"],
            frozenset(kinds),
            frozenset(names),
            roles,
            minimum,
        )

    def condition(
        self,
        path: str,
        data: YamlMap,
        key: str,
        selections: Mapping[str, SelectionSpec],
        required: bool,
    ) -> Node | None:
        text = data.get(key)
        if text is None:
            if required:
                self.problems.add(path, f"rule needs '{key}'", data.line)
            return None
        if not isinstance(text, str):
            self.problems.add(path, f"{key} must be a string", data.line_of(key))
            return None
        try:
            node = parse_condition(text)
        except ConditionSyntaxError as exc:
            self.problems.add(path, f"bad {key} {text!r}: {exc}", data.line_of(key))
            return None
        unknown = [n for n in names_in(node) if n not in selections]
        for name in unknown:
            if data.get("selections") is not None:
                self.problems.add(path, f"{key} uses unknown selection {name!r}", data.line_of(key))
        return None if unknown else node

    def anchors(
        self,
        path: str,
        data: YamlMap,
        condition: Node | None,
        selections: Mapping[str, SelectionSpec],
    ) -> tuple[str, ...]:
        given = string_list(self.problems, path, data, "anchor", "anchor")
        names = [n for n, _ in given]
        if not names and condition is not None:
            names = [n for n in positive_names(condition) if _of_terms(selections[n])][:1]
        for name in names:
            if name not in selections:
                self.problems.add(
                    path, f"anchor {name!r} is not a selection", data.line_of("anchor")
                )
            elif not _of_terms(selections[name]):
                self.problems.add(
                    path, f"anchor {name!r} must be a selection of terms", data.line_of("anchor")
                )
        if condition is not None and not names:
            self.problems.add(
                path,
                "rule needs an anchor: a selection of terms its condition requires",
                data.line_of("condition"),
            )
        return tuple(names)

    def actor_spec(self, path: str, data: YamlMap) -> ActorSpec:
        raw = data.get("actors")
        if raw is None:
            return ActorSpec()
        if not isinstance(raw, YamlMap):
            self.problems.add(
                path, "actors must be a mapping (kinds, roles, mode)", data.line_of("actors")
            )
            return ActorSpec()
        check_keys(self.problems, path, raw, ("kinds", "roles", "mode", "only"), "actors")
        kinds = frozenset(
            k for k, _ in string_list(self.problems, path, raw, "kinds", "actor kinds")
        )
        for kind in kinds - {"person", "state", "org"}:
            self.problems.add(
                path, f"actor kind must be person, state or org, got {kind!r}", raw.line_of("kinds")
            )
        roles = frozenset(
            r for r, _ in string_list(self.problems, path, raw, "roles", "actor roles")
        )
        mode = raw.get("mode", "all")
        if mode not in ("all", "agent"):
            self.problems.add(
                path, f"actors.mode must be all or agent, got {mode!r}", raw.line_of("mode")
            )
            mode = "all"
        only = frozenset(n for n, _ in string_list(self.problems, path, raw, "only", "actors.only"))
        return ActorSpec(kinds or frozenset({"person", "state"}), roles, mode, only)

    def facts(self, path: str, data: YamlMap) -> tuple[FactSpec, ...]:
        raw = data.get("facts")
        if raw is None:
            return ()
        if not isinstance(raw, YamlSeq):
            self.problems.add(path, "facts must be a list", data.line_of("facts"))
            return ()
        specs = []
        for index, item in enumerate(raw):
            line = raw.line_of(index)
            if isinstance(item, str):
                if item in BUILTINS or item in DERIVED:
                    specs.append(FactSpec(item))
                else:
                    known = ", ".join(sorted([*BUILTINS, *DERIVED]))
                    self.problems.add(
                        path, f"unknown built-in fact {item!r} (built-ins: {known})", line
                    )
            elif isinstance(item, YamlMap):
                spec = self.regex_fact(path, item)
                if spec is not None:
                    specs.append(spec)
            else:
                self.problems.add(
                    path, "a fact is a built-in name or a mapping with name and patterns", line
                )
        return tuple(specs)

    def regex_fact(self, path: str, item: YamlMap) -> FactSpec | None:
        check_keys(self.problems, path, item, ("name", "patterns", "list", "type", "lower"), "fact")
        name = optional_string(self.problems, path, item, "name", "fact name")
        patterns = []
        for raw, line in string_list(self.problems, path, item, "patterns", "fact patterns"):
            if self.safe_regex(path, raw, re.IGNORECASE, line):
                patterns.append(re.compile(raw, re.IGNORECASE))
        kind = item.get("type", "str")
        if kind not in ("str", "int", "float"):
            self.problems.add(
                path, f"fact type must be str, int or float, got {kind!r}", item.line_of("type")
            )
        many = item.get("list", False)
        if not isinstance(many, bool):
            self.problems.add(path, "fact list must be true or false", item.line_of("list"))
        lower = item.get("lower", False)
        if not isinstance(lower, bool):
            self.problems.add(path, "fact lower must be true or false", item.line_of("lower"))
        if name is None or not patterns:
            if name is not None:
                self.problems.add(path, f"fact {name!r} needs patterns", item.line)
            return None
        return FactSpec(name, False, tuple(patterns), bool(many), kind, bool(lower))

    def title(self, path: str, data: YamlMap, facts: tuple[FactSpec, ...]) -> str | None:
        title = optional_string(self.problems, path, data, "title", "title")
        if title is None:
            if "title" not in data:
                self.problems.add(path, "rule needs a title template", data.line)
            return None
        allowed = FIXED_FIELDS | {f.name for f in facts}
        for name in template_fields(title):
            if name not in allowed:
                self.problems.add(
                    path,
                    f"title uses unknown field {name!r} (known: {', '.join(sorted(allowed))})",
                    data.line_of("title"),
                )
        return title

    def examples(self, path: str, data: YamlMap) -> tuple[Example, ...]:
        raw = data.get("examples")
        if raw is None:
            return ()
        if not isinstance(raw, YamlMap):
            self.problems.add(
                path,
                "examples must map positive/negative/planned/background to sentences",
                data.line_of("examples"),
            )
            return ()
        check_keys(self.problems, path, raw, EXAMPLE_KINDS, "examples")
        found = []
        for kind in EXAMPLE_KINDS:
            for text, line in string_list(self.problems, path, raw, kind, f"{kind} examples"):
                found.append(Example(text, kind, line))
        return tuple(found)


def _of_terms(spec: SelectionSpec) -> bool:
    """Whether a selection is found by terms it names (`any` or `all`), so it can be an event
    word: an entity selection is found by entities, a `none` selection where terms are absent."""
    return not spec.uses_entities and bool(spec.any_terms or spec.all_terms)


def _support_terms(support: Node | None, selections: Mapping[str, SelectionSpec]) -> frozenset[str]:
    """Term selections of which a sentence needs a hit for `support` to hold; empty when an
    entity selection, or a selection of `none` terms alone (it holds where they are absent),
    could make it hold without such a hit (then every sentence is checked)."""
    if support is None:
        return frozenset()
    names = positive_names(support)
    if not all(_of_terms(selections[n]) for n in names):
        return frozenset()
    return frozenset(names)


def _as_any(items: YamlSeq) -> YamlMap:
    body = YamlMap(any=items)
    body.line = items.line
    body.key_lines = {"any": items.line}
    return body


def compile_rules(docs: Mapping[str, str], lexicon: Lexicon, problems: Problems) -> Compiled:
    """Every rule and the shared cues of `docs` (path -> YAML text); errors go to `problems`."""
    compiler = _Compiler(lexicon, problems)
    for path, text in docs.items():
        compiler.file(path, text)
    return compiler.out


def _drop_rule(users_by_term: Mapping[int, list[tuple[int, _Use]]], index: int) -> None:
    """Remove rule `index`'s entries from each term's list of (rule index, use) pairs."""
    for users in users_by_term.values():
        users[:] = [u for u in users if u[0] != index]
