"""Who gets which alert, and when: the subscribers of a run, read from their configuration.

Owns: `config` (Apprise YAML and plain URLs -> validated Targets in a `Subscribers`, errors with
file:line and never a secret), `envvars` (`${NAME}` replaced from the environment), `tags` (the
one vocabulary of tag kinds), `routing` (which subscribers an alert's category and regions
select) and `schedule` (digests and quiet hours, `now` an argument). Takes: configuration text,
URLs, the rules' categories and regions. Returns: `Subscribers`, routes, send times. Imports
`notify.sending` to build the services; no clock.
"""
