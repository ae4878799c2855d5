"""`explain`: why a rule fires on a text or not — the terms per selection, the sentences, the
condition, the status cue and the background decision (for `watchfloor rules explain`)."""

from __future__ import annotations

from dataclasses import dataclass

from core.model import DetectionInput, Match
from detect.engine.detector import rule_matches
from detect.engine.event_mentions import Mention, SentenceTrace
from detect.engine.scan import scan_article
from detect.rules.ruleset import RuleSet


@dataclass(frozen=True, slots=True)
class Explanation:
    """How one rule read one text: every sentence that holds one of its terms, and the matches."""

    rule_id: str
    condition: str
    sentences: tuple[SentenceTrace, ...]
    matches: tuple[Match, ...]

    @property
    def fired(self) -> bool:
        """Whether the rule made at least one match."""
        return bool(self.matches)

    def lines(self) -> list[str]:
        """A plain-text report, one line per fact."""
        out = [f"rule {self.rule_id}: {'FIRES' if self.fired else 'does not fire'}"]
        out.append(f"condition: {self.condition}")
        if not self.sentences:
            out.append("no sentence holds an anchor term of this rule")
        for trace in self.sentences:
            out += _trace_lines(trace)
        out += [_match_line(match) for match in self.matches]
        return out


def _trace_lines(trace: SentenceTrace) -> list[str]:
    out = [f"[{trace.sentence}] {trace.text}"]
    out += [f"    {name}: {', '.join(terms) or '-'}" for name, terms in trace.selections.items()]
    out.append(f"    condition on the sentence: {trace.condition}")
    for part in trace.partitions:
        out.append(f"    anchor {part.anchor!r}: condition {part.condition}")
        if part.blocked:
            out.append(f"      dropped: {part.blocked}")
        if part.mention is not None:
            out += _mention_lines(part.mention)
    return out


def _mention_lines(mention: Mention) -> list[str]:
    cue = f" (cue {mention.status_cue!r})" if mention.status_cue else " (no cue)"
    actors = ", ".join(mention.actors) or "-"
    said = "" if mention.asserted else " (only named: no cue, date or headline says it happened)"
    return [
        f"      status: {mention.status or 'default'}{cue}",
        f"      time: {mention.temporal}: {mention.temporal_reason}{said}",
        f"      actors: {actors}; place: {mention.location or '-'}",
    ]


def _match_line(match: Match) -> str:
    background = "background" if match.background else "news"
    return (
        f"=> {match.title} | {match.status}, {background}, date {match.event_date or '-'}"
        f", facts {dict(match.facts)}"
    )


def explain(ruleset: RuleSet, rule_id: str, item: DetectionInput) -> Explanation:
    """How rule `rule_id` reads `item`. Raises KeyError for an unknown rule id."""
    rule_index = next((i for i, r in enumerate(ruleset.rules) if r.id == rule_id), None)
    if rule_index is None:
        raise KeyError(f"no rule {rule_id!r}")
    rule = ruleset.rules[rule_index]
    scan = scan_article(ruleset, item)
    traces: list[SentenceTrace] = []
    matches = rule_matches(ruleset, rule_index, scan, list(range(len(scan.sentences))), traces)
    return Explanation(rule.id, rule.condition_text, tuple(traces), tuple(matches))
