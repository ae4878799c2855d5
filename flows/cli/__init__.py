"""The `watchfloor` command line: `app` (the console script's object) and one module a group of
commands.

Owns: `app` (the commands and their help), `common` (options, one-line errors with exit 2,
JSON on stdout), `flowruns` (`replay`, `run`, `serve`: the commands that start flow runs;
named apart from the `flows.runs` package they call), `health` (`sources check`), `sources`
(OPML in and out, the source kinds), and `alerts`, `articles`, `db`, `detect`, `feedback`,
`rules`, `web`. Takes: arguments and the settings (`flows.context.settings`). Returns: an exit
status, a report on the terminal or as JSON. The only package that imports `flows.serving`;
`--help` imports no Prefect.
"""
