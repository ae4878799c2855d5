"""Reading strings from outside: HTML fragments, titles, page furniture, seed files, links.

Owns: `htmltext` (HTML to plain text, entities unescaped), `titles` (a title for an item that
has none), `boilerplate` (comment prompts, share lines, reading times removed), `seedtext` (one
plain-text article taken apart: date header, headline, dateline, body) and `links` (canonical
article URLs, URLs safe to display). Takes: strings. Returns: strings and small dataclasses.
Pure: no I/O.
"""
