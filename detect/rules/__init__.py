"""Rule and alias files -> a compiled `RuleSet`, and the rule language's parts.

Owns: checking YAML shapes with every problem pinned to file and line (`yamlcheck`), compiling
rule files (`compiler`) and the entity alias table (`aliases`: `Entity`, `EntityTable` and an
`EntityMention` of one) into the `RuleSet` of `ruleset` (rules, one term matcher, the shared cue
lists, the term -> user indexes). Each part of the rule language keeps its compile-time check
and its run-time meaning together: conditions (`conditions`: parse, evaluate), title templates
(`templates`: fields, render), fact extractors (`facts`: built-in names, extract) and the
refusal of backtracking regexes (`regexrisk`).

Takes: path -> YAML text (paths only name files in errors), a `text.terms.Lexicon` to add terms
to, and a `yamlcheck.Problems` to report into. Returns: `Compiled` rules and an `EntityTable`;
`detect.load.load_ruleset` assembles them into a `RuleSet` and raises ConfigValidationError.
Imports `detect.text`, never the engine: compiling rules does not match anything.
"""
