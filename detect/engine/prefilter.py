"""Whether any rule could fire on an article, from its event words' sentences alone.

The cascade's second step (`detect.engine.scan` has the first): most articles that hold an
event word hold it in a sense no rule reads ("launch a new phone", "hosted a dinner"), and a
rule reads a sentence closely only where its condition could hold given which of its
selections have terms there. That test needs only the sentences holding the event words and
their hits, not the whole article's: each is split out of its own line (`sentence_around`) and
matched alone (`Matcher.scan_range`), where the full path matches the whole article and splits
every sentence first (~300 µs of a ~420 µs article that ends with nothing).

A "no" here is the full path's "no": the full path also reads only sentences with an event
word of the rule, in its scope, that pass `possible_with` given the sentence's selections and
whether it holds an entity; the sentence and its hits here are exactly the full path's (their
tests compare them), and `possible` only grows with what is present. Whether the sentence
holds an entity is asked only of a rule that needs one there, and answered by
`detect.engine.nameable`, whose "no" is exact. A "yes" hands the article to the full path
unchanged.
"""

from __future__ import annotations

from detect.engine.nameable import NameBound
from detect.engine.scan import ArticleText
from detect.rules.conditions import possible
from detect.rules.ruleset import RuleSet, SelectionSpec
from detect.text.sentences import LineSentences, Part, sentence_around
from detect.text.terms import Hit


def possible_with(
    ruleset: RuleSet, rule_index: int, found: frozenset[str], has_entities: bool
) -> bool:
    """Whether rule `rule_index`'s condition could hold in a sentence whose selections with
    terms are `found`. Remembered per rule set: the answer depends on nothing else, and a few
    combinations of selections recur in every article (at most two per subset of a rule's
    selections)."""
    key = (rule_index, found, has_entities)
    answer = ruleset.possible_memo.get(key)
    if answer is None:
        rule = ruleset.rules[rule_index]
        present = {
            name: name in found or (spec.uses_entities and has_entities) or _only_none(spec)
            for name, spec in rule.selections.items()
        }
        answer = ruleset.possible_memo[key] = possible(rule.condition, present)
    return answer


def _only_none(spec: SelectionSpec) -> bool:
    """Whether a selection is made of `none` terms alone (true wherever they are absent)."""
    return bool(spec.none_terms) and not (spec.any_terms or spec.all_terms or spec.uses_entities)


def could_fire(ruleset: RuleSet, text: ArticleText) -> bool:
    """False when no rule can fire on `text`: no event word, or none in a sentence where its
    rule's condition could hold (see the module docstring). Stops at the first event word
    whose rule could fire, where an article that reports something often has one: its title."""
    matcher = ruleset.matcher
    regex_hits: list[Hit] | None = None  # searched once, when a first sentence needs them
    sentence_hits: dict[tuple[int, int], list[Hit]] = {}
    names = NameBound(ruleset, text.text)
    nameable: dict[tuple[int, int], bool] = {}  # sentence -> whether it could name an entity
    lines: LineSentences = {}
    for anchor in ruleset.anchor_matcher.hits(text.text):
        found = _sentence_of(text, anchor.start, lines)
        if found is None:
            continue
        part, span = found
        hits = sentence_hits.get(span)
        if hits is None:
            if regex_hits is None:
                regex_hits = matcher.regex_hits(text.text)
            hits = sentence_hits[span] = matcher.scan_range(text.text, *span, regex_hits)
        for rule_index in ruleset.anchor_rules[anchor.term]:
            if part not in ruleset.rules[rule_index].scope:
                continue
            selections = _selections(ruleset, rule_index, hits)
            if not possible_with(ruleset, rule_index, selections, True):
                continue
            if not ruleset.uses_entities[rule_index] or possible_with(
                ruleset, rule_index, selections, False
            ):
                return True
            if span not in nameable:
                nameable[span] = names.could_name(*span, hits)
            if nameable[span]:
                return True
    return False


def _sentence_of(
    text: ArticleText, position: int, lines: LineSentences
) -> tuple[Part, tuple[int, int]] | None:
    """The part and the sentence (start, end) that `scan_article`'s sentences put `position` in
    (`lines`: the lines split so far)."""
    parts: tuple[tuple[Part, tuple[int, int]], ...] = (
        ("title", text.title_range),
        ("body", text.body_range),
    )
    for part, (start, end) in parts:
        span = sentence_around(text.text.cased, start, end, position, lines)
        if span is not None:
            return part, span
    return None


def _selections(ruleset: RuleSet, rule_index: int, hits: list[Hit]) -> frozenset[str]:
    """The selections of rule `rule_index` with a term among `hits` (`SentenceIndex.selections`)."""
    uses = ruleset.term_uses
    return frozenset(
        name
        for hit in hits
        if (found := uses.get(hit.term)) is not None
        for owner, name in found[0]
        if owner == rule_index
    )
