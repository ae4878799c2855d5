"""The rules turned on themselves: checked, explained and measured (for `watchfloor rules`).

Owns: each rule's example sentences coming out as the rule says (`examples`, run by
`detect.load.load_ruleset`), why a rule fires on a text or not (`explain`), scores against
labelled articles (`evaluation`: `Score`, `Evaluation`, label parsing) and the reason for each
miss and false alarm (`diagnose`: `evaluate`, `miss_reason`, `alarm_reason`).

Takes: a `RuleSet` and `DetectionInput`s (with labels: article id -> categories). Returns:
`ConfigError`s for failing examples, an `Explanation`, an `Evaluation`. Runs the engine; nothing
in `detect.engine` or `detect.rules` imports this package.
"""
