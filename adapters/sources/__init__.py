"""Which sources to watch: the sources file, and feeds in and out of it as OPML.

Owns: `file` (the sources file loaded and validated, file:line:reason for every error, each
source checked against its kind's location key and options), `opml` (OPML read and written) and
`opml_import` (feeds from an OPML file added to a sources file without rewriting what is there).
Takes: YAML and OPML text. Returns: `core.model.SourceSpec`s and the text to write. Imports the
registry for the kinds.
"""
