"""Rules -> Matches -> Developments. Pure and deterministic: no I/O, no database, no clock.

ruleset = load_ruleset(rule_docs, alias_docs)   # path -> YAML text; raises ConfigValidationError
matches = detect(ruleset, item)                 # one Match per (rule, event) in an article
changes = assign(matches, known)                # identity resolution + alert decisions
explain(ruleset, rule_id, item).lines()         # why a rule fires or not
evaluate(ruleset, items, parse_labels(tsv, ...)) # scores on labelled articles, with reasons
evaluation.by_group(languages), .confusion()     # scores per language, kinds of disagreement
"""

from detect.assign import assign
from detect.diagnose import alarm_reason, evaluate, miss_reason
from detect.engine import detect
from detect.evaluation import (
    Confusion,
    Evaluation,
    GroupScore,
    Outcome,
    Score,
    group_table,
    is_positive,
    parse_labels,
    reported_categories,
    score,
)
from detect.examples import example_holds
from detect.explain import Explanation, explain
from detect.loader import load_ruleset
from detect.model import RuleSet

__all__ = [
    "Confusion",
    "Evaluation",
    "Explanation",
    "GroupScore",
    "Outcome",
    "RuleSet",
    "Score",
    "alarm_reason",
    "assign",
    "detect",
    "evaluate",
    "example_holds",
    "explain",
    "group_table",
    "is_positive",
    "load_ruleset",
    "miss_reason",
    "parse_labels",
    "reported_categories",
    "score",
]
