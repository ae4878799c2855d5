"""How detection reads text: the bottom layer, knowing nothing of rules.

Owns: normalisation (`normalize`: NFKC, invisible characters dropped, case and Han script folded
by `hanfold`, with offsets kept aligned), sentence splitting (`sentences`), date expressions and
their resolution against the article's day (`dates`), event ordinals (`ordinals`), keys for
spellings of a person's name (`names`), and the one Aho-Corasick matcher for every term
(`terms`: a `Lexicon` of term specs compiled into a `Matcher` that yields `Hit`s).

Takes: plain strings (article text, terms as written). Returns: `NormText`, `Sentence`,
`DateExpr`/`DateSpan`, name keys and term `Hit`s, all as offsets into the normalised text.
Linear in the input, whatever it holds (hostile text is a tested case). Imports nothing of
`detect` outside this package.
"""
