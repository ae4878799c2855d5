"""One message to one target through Apprise, and an honest answer whether it arrived.

Owns: `subscribers` (the run's Targets and the Apprise service built for each), `delivery` (one
send: the message rendered for the target's format, a JSON webhook's payload, the outcome),
`capture` (what Apprise logged during a send, to say why it failed), `privacy` (Apprise URLs
kept secret: display forms, secret fragments, scrubbing), `asset` (the Apprise asset every
service gets) and `terminal` (the `watchfloor://terminal` schema). Takes: an alert and a target.
Returns: a `DeliveryOutcome` (never raises). Imports `notify.messages`.
"""
