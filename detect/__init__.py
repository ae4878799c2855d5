"""Rules -> Matches -> Developments. Pure and deterministic: no I/O, no database, no clock.

ruleset = load_ruleset(rule_docs, alias_docs)   # path -> YAML text; raises ConfigValidationError
matches = detect(ruleset, item)                 # one Match per (rule, event) in an article
changes = assign(matches, known)                # identity resolution + alert decisions
explain(ruleset, rule_id, item).lines()         # why a rule fires or not
evaluate(ruleset, items, parse_labels(tsv, ...)) # scores on labelled articles, with reasons
evaluation.by_group(languages), .confusion()     # scores per language, kinds of disagreement

Layers, each importing only those below it (an import-linter contract in pyproject.toml):
    load      load_ruleset: compile the files, then check every rule's examples
    tools/    examples, explain, evaluation, diagnose: the rules checked and measured
    engine/   RuleSet x article -> Matches (scan ... clusters); Matches -> changes (assign)
    rules/    YAML -> compiled RuleSet; conditions, templates, facts, regex risk
    text/     normalisation, sentences, dates, ordinals, names, the term matcher
Each package's docstring says what it owns, takes and returns.
"""

from detect.engine.assign import assign
from detect.engine.detector import detect
from detect.load import load_ruleset
from detect.rules.ruleset import RuleSet
from detect.tools.diagnose import alarm_reason, evaluate, miss_reason
from detect.tools.evaluation import (
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
from detect.tools.examples import example_holds
from detect.tools.explain import Explanation, explain

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
