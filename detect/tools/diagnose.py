"""Rules measured on labelled articles: the scores, and why detection and a label disagree (one
line per miss or false alarm, built from `explain`), for `watchfloor rules test`."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import replace

from core.model import DetectionInput
from detect.engine.detector import detect
from detect.engine.event_mentions import Mention, PartitionTrace, SentenceTrace
from detect.rules.ruleset import Rule, RuleSet
from detect.tools.evaluation import Evaluation, is_positive, reported_categories, score
from detect.tools.explain import Explanation, explain

_SHOWN = 3  # mentions or causes quoted per rule: enough to see the pattern, short enough to read


def _rules_of(ruleset: RuleSet, category: str) -> list[Rule]:
    return [rule for rule in ruleset.rules if rule.category == category]


def _is_news(rule: Rule, mention: Mention) -> bool:
    status = mention.status or rule.default_status
    return status == "occurred" and mention.temporal != "background" and mention.asserted


def _mention_text(rule: Rule, mention: Mention) -> str:
    status = mention.status or f"{rule.default_status} (default)"
    cue = f" (cue {mention.status_cue!r})" if mention.status_cue else ""
    said = "" if mention.asserted else " (only named)"
    return f"{mention.anchor!r} {status}{cue}, {mention.temporal}: {mention.temporal_reason}{said}"


def _mentions(explanation: Explanation) -> list[Mention]:
    return [p.mention for t in explanation.sentences for p in t.partitions if p.mention]


def _failed_parts(rule: Rule, trace: SentenceTrace) -> list[str]:
    """Why the condition failed in one sentence: what it lacked and what blocked it."""
    views = [(p.selections, p.condition) for p in trace.partitions] or [
        (trace.selections, trace.condition)
    ]
    causes = []
    for selections, held in views:
        if held:
            continue
        lacking = [n for n in rule.positive if not selections.get(n)]
        blocked = [
            f"{n} ({', '.join(terms)})"
            for n, terms in selections.items()
            if n not in rule.positive and terms
        ]
        parts = []
        if lacking:
            parts.append("lacks " + ", ".join(sorted(lacking)))
        if blocked:
            parts.append("blocked by " + ", ".join(blocked))
        # Every selection present, none blocking: a near() the words were too far apart for.
        causes.append("; ".join(parts) or "selections too far apart")
    return causes


def _blocked(trace: SentenceTrace) -> list[PartitionTrace]:
    return [p for p in trace.partitions if p.blocked]


def _why_silent(rule: Rule, explanation: Explanation) -> str:
    if not explanation.sentences:
        return f"{rule.id}: no event word ({', '.join(rule.anchors)})"
    causes: Counter[str] = Counter()
    for trace in explanation.sentences:
        causes.update(_failed_parts(rule, trace))
        causes.update(f"{p.anchor!r} {p.blocked}" for p in _blocked(trace))
    shown = ", ".join(
        f"{cause}{f' x{n}' if n > 1 else ''}" for cause, n in causes.most_common(_SHOWN)
    )
    return f"{rule.id}: condition never held ({shown or 'no anchor in scope'})"


def miss_reason(ruleset: RuleSet, item: DetectionInput, category: str) -> str:
    """Why no rule of `category` reported an event on `item` as news."""
    reasons = []
    for rule in _rules_of(ruleset, category):
        explanation = explain(ruleset, rule.id, item)
        mentions = _mentions(explanation)
        if not mentions:
            reasons.append(_why_silent(rule, explanation))
            continue
        states = dict.fromkeys(_mention_text(rule, m) for m in mentions)
        reasons.append(f"{rule.id} saw only: " + " | ".join(list(states)[:_SHOWN]))
    return "; ".join(reasons) or f"no rule of category {category!r}"


def alarm_reason(ruleset: RuleSet, item: DetectionInput, category: str) -> str:
    """Which rule of `category` reported an event on `item` as news, on which words."""
    reasons = []
    for rule in _rules_of(ruleset, category):
        explanation = explain(ruleset, rule.id, item)
        news = [m for m in _mentions(explanation) if _is_news(rule, m)]
        if not news or not any(is_positive(m) for m in explanation.matches):
            continue
        first = news[0]
        sentence = next(t.text for t in explanation.sentences if t.sentence == first.sentence)
        reasons.append(
            f"{rule.id} fired on {', '.join(first.terms)}: {_mention_text(rule, first)}"
            f" in {sentence[:160]!r}"
        )
    return "; ".join(reasons) or f"category {category!r} reported"


def evaluate(
    ruleset: RuleSet, items: Iterable[DetectionInput], labels: Mapping[str, frozenset[str]]
) -> Evaluation:
    """Detect on every labelled item (keyed by `DetectionInput.key`; unlabelled ones are
    skipped) and score against `labels`, with the reason of each miss and false alarm."""
    predicted: dict[str, frozenset[str]] = {}
    inputs: dict[str, DetectionInput] = {}
    for item in items:
        if item.key in labels:
            inputs[item.key] = item
            predicted[item.key] = reported_categories(detect(ruleset, item))
    result = score(predicted, {key: labels[key] for key in inputs})
    reasons = {(key, c): miss_reason(ruleset, inputs[key], c) for key, c in result.misses}
    reasons |= {(key, c): alarm_reason(ruleset, inputs[key], c) for key, c in result.false_alarms}
    return replace(result, reasons=reasons)
