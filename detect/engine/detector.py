"""`detect`: every event an article reports, one Match per (rule, event)."""

from __future__ import annotations

from collections.abc import Collection

from core.model import DetectionInput, Match
from detect.engine.clusters import attach_support, group_mentions, to_match
from detect.engine.event_mentions import Mention, SentenceTrace, read_sentence, support_holds
from detect.engine.prefilter import could_fire, possible_with
from detect.engine.scan import ArticleScan, article_text, find_terms, scan_article
from detect.rules.ruleset import RuleSet


def _may_hold(scan: ArticleScan, rule_index: int, sentence: int) -> bool:
    """A cheap test before reading a sentence closely: could the condition hold, given which
    selections have any term in it (entity selections: any entity)? A selection of `none`
    terms only holds where its terms are absent, so it may hold whatever the sentence holds:
    treating it as absent silently stopped such a rule from firing while `explain`, which
    reads every sentence, said it fired.

    The test is first made as if the sentence named an entity, which costs nothing: `possible`
    only grows with what is present, so a "no" then is final, and the article's entities are
    resolved only for a sentence that passes."""
    found = frozenset(name for _hit, name in scan.index[sentence].selections.get(rule_index, ()))
    if not possible_with(scan.ruleset, rule_index, found, has_entities=True):
        return False
    if not scan.ruleset.uses_entities[rule_index]:
        return True
    return possible_with(
        scan.ruleset, rule_index, found, has_entities=bool(scan.entities[sentence])
    )


def rule_matches(
    ruleset: RuleSet,
    rule_index: int,
    scan: ArticleScan,
    sentences: list[int],
    traces: list[SentenceTrace] | None = None,
) -> list[Match]:
    """The events rule `rule_index` finds in the given sentences of `scan`."""
    rule = ruleset.rules[rule_index]
    mentions: list[Mention] = []
    for sentence in sentences:
        if scan.sentences[sentence].part not in rule.scope:
            continue
        # `explain` (with traces) shows every sentence; detection skips the hopeless ones.
        if traces is None and not _may_hold(scan, rule_index, sentence):
            continue
        trace = read_sentence(ruleset, rule_index, scan, sentence)
        if trace is None:
            continue
        if traces is not None:
            traces.append(trace)
        mentions += [p.mention for p in trace.partitions if p.mention is not None]
    if not mentions:
        return []
    clusters = group_mentions(mentions)
    if rule.support is not None:
        named = {m.sentence for m in mentions}
        attach_support(
            clusters,
            [
                s
                for s in _support_candidates(ruleset, rule_index, scan)
                if s not in named
                and scan.sentences[s].part in rule.scope
                and support_holds(ruleset, rule_index, scan, s)
            ],
        )
    return [to_match(rule, scan, cluster) for cluster in clusters]


def _support_candidates(ruleset: RuleSet, rule_index: int, scan: ArticleScan) -> list[int]:
    """Sentences where the rule's support condition could hold (a hit of a selection it needs),
    read off the sentences' hits, so that only the few candidates get their index sorted out."""
    if not ruleset.rules[rule_index].support_terms:
        return list(range(len(scan.sentences)))
    needed = ruleset.support_term_ids[rule_index]
    return [
        sentence
        for sentence, hits in enumerate(scan.hits)
        if any(hit.term in needed for hit in hits)
    ]


def detect_rules(
    ruleset: RuleSet, item: DetectionInput, only: Collection[int] | None = None
) -> list[Match]:
    """Matches of every rule (or of the rule indices in `only`) on `item`. An article where no
    rule could fire is done after the pass of the anchor terms' automaton and a look at the
    sentences holding them (`could_fire`)."""
    text = article_text(item)
    if not could_fire(ruleset, text):
        return []
    scan = scan_article(ruleset, item, find_terms(ruleset, text))
    matches: list[Match] = []
    for rule_index, sentences in sorted(scan.anchored_sentences().items()):
        if only is None or rule_index in only:
            matches += rule_matches(ruleset, rule_index, scan, sentences)
    return matches


def detect(ruleset: RuleSet, item: DetectionInput) -> list[Match]:
    """Every event `item` reports: at most one Match per (rule, event identity), aggregated over
    the sentences that mention the event."""
    return detect_rules(ruleset, item)
