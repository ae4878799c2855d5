"""A compiled `RuleSet` run over articles: article -> Matches -> development changes.

Owns, in the order an article flows through it: one scan shared by every rule (`scan`:
normalise, find every term, split sentences, then entities and dates on first use), entity
mentions (`entity_mentions`: aliases, name variants, titled unknown people, capitals for states),
which of a rule's selections hold (`selections`), event mentions of a rule in a sentence with
their status cues (`event_mentions`), what a mention's date says of it (`timing`), mentions of
one event merged into one `Match` (`clusters`), and the per-article driver (`detector`: `detect`,
`detect_rules`, `rule_matches`). Across articles: matches joined to developments with alert
decisions (`assign`), by the tests of when two reports are one event (`identity`, which
`clusters` also asks within an article).

Takes: a `RuleSet` and a `core.model.DetectionInput` (or Matches and known Developments).
Returns: `core.model.Match` lists, and `core.model.DevelopmentChange`s from `assign`. Pure and
deterministic: no I/O, no clock. Imports `detect.rules` and `detect.text`, never `detect.tools`.
"""
