"""Rule and alias files -> the parts of a compiled `RuleSet`, and the rule language itself.

Owns: checking YAML shapes, every problem pinned to file and line (`yamlcheck`); compiling rule
files into `Rule`s whose terms go into one lexicon (`compiler`); the entity alias table
(`aliases`: `Entity`, `EntityTable`, and `EntityMention`, one found in a text); and the
compiled types the engine runs (`ruleset`: `Rule`, `RuleSet`, the cue kinds). Each part of the
rule language keeps its load-time check and its run-time meaning together: conditions
(`conditions`: parse, evaluate), title templates (`templates`: fields, render), fact extractors
(`facts`: built-in names, extract) and the refusal of backtracking regexes (`regexrisk`).

Takes: path -> YAML text (paths only name files in errors), a `text.terms.Lexicon` to add terms
to, and a `yamlcheck.Problems` to report into. Returns: `Compiled` rules and an `EntityTable`;
`detect.load.load_ruleset` assembles them into a `RuleSet` and raises ConfigValidationError.
Imports `detect.text`, never the engine: compiling rules matches nothing.
"""
