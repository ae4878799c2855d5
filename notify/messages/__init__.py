"""What a message says: an alert or a digest rendered as text, Markdown or HTML.

Owns: `render` (title and body from the Jinja2 templates in notify/templates, within a
channel's length limit), `escaping` (feed text safe for each format, links safe to follow),
`payload` (the versioned JSON fields a webhook gets beside Apprise's) and `usertemplates` (a
folder of the user's templates checked before any work starts). Takes: alerts. Returns:
strings and JSON fields. Pure: no I/O but reading templates.
"""
