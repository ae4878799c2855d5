"""How detection reads text: the bottom layer, knowing nothing of rules.

Owns: normalisation (`normalize`: NFKC, invisible characters dropped, one cased and one folded
string of equal length, Han forms folded by `hanfold`), sentence splitting (`sentences`), date
expressions and their resolution against the article's day (`dates`), event ordinals
(`ordinals`), keys for spellings of a person's name (`names`), and the one Aho-Corasick matcher
for every term (`terms`: a `Lexicon` of term specs compiled into a `Matcher` that yields `Hit`s).

Takes: plain strings (article text, terms as written). Returns: `NormText`, `Sentence`,
`DateExpr`/`DateSpan`, name keys and term `Hit`s; every position is an offset into the
normalised text. Hostile input (punctuation runs, invisible and control characters, megabyte
sentences, year-9999 dates) is a tested case: tests/detect/test_hostile_input.py and
test_linear_work.py. Imports nothing of `detect` outside this package.
"""
