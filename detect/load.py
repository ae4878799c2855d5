"""`load_ruleset`: rule and alias files (as text) -> a validated, compiled RuleSet.

The composition of the layers below: `rules` compiles the files, and `tools.examples` runs every
rule's examples through the `engine`, so a RuleSet is only ever handed out whole and checked."""

from __future__ import annotations

from collections.abc import Mapping

from core.errors import ConfigValidationError
from detect.rules.aliases import load_entities
from detect.rules.compiler import Compiled, compile_rules
from detect.rules.ruleset import COMMON, EntityCues, RuleSet
from detect.rules.yamlcheck import Problems
from detect.text.terms import Lexicon
from detect.tools.examples import example_failures


def _common_terms(compiled: Compiled, kind: str) -> frozenset[int]:
    return frozenset(
        term
        for term, users in compiled.cue_users.items()
        if any(owner == COMMON and k == kind for owner, k in users)
    )


def _anchor_rules(compiled: Compiled) -> dict[int, list[int]]:
    """Term id -> the rules for which it is an anchor."""
    found: dict[int, list[int]] = {}
    for term, users in compiled.selection_users.items():
        for rule_index, selection in users:
            anchors = compiled.rules[rule_index].anchors
            if selection in anchors and rule_index not in found.get(term, []):
                found.setdefault(term, []).append(rule_index)
    return found


def load_ruleset(rule_docs: Mapping[str, str], alias_docs: Mapping[str, str]) -> RuleSet:
    """Compile rule files and alias files (path -> YAML text; paths only name them in errors).

    Raises ConfigValidationError listing every problem at once, each with file, line and reason:
    bad YAML, unknown keys, bad condition syntax, unknown selections, bad regexes, bad levels or
    statuses, duplicate rule ids, and examples their rule gets wrong.
    """
    problems = Problems()
    lexicon = Lexicon()
    entities = load_entities(alias_docs, lexicon, problems)
    compiled = compile_rules(rule_docs, lexicon, problems)
    ruleset = RuleSet(
        rules=tuple(compiled.rules),
        matcher=lexicon.compile(),
        entities=entities,
        entity_cues=EntityCues(
            locative=_common_terms(compiled, "locative"), former=_common_terms(compiled, "former")
        ),
        selection_users=compiled.selection_users,
        cue_users=compiled.cue_users,
        anchor_rules=_anchor_rules(compiled),
    )
    # The rules that compiled still run their examples, so one pass reports every problem.
    errors = [*problems.errors, *example_failures(ruleset)]
    if errors:
        raise ConfigValidationError(errors)
    return ruleset
