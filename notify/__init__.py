"""Alerts -> messages to subscribers through Apprise.

What flows call (nothing here touches the database or reads the clock):

- `load_targets(config_path, urls, *, categories=None, regions=None)`: subscribers from an
  Apprise YAML file and/or plain URLs, validated at start (ConfigError with file:line; never a
  secret in it); every tag checked against notify.targets.tags, and topic/region tags against the
  categories and regions of the loaded rules and entities when given. It returns
  `Subscribers`: the Targets, and the Apprise services they are sent through, for the run
  that loaded them (nothing is kept at module level);
- `route(alert, targets)`: the subscribers whose tags select an alert (notify.targets.routing);
  `with_tag(targets, tag)` for `watchfloor alerts test --tag TAG`;
- `Subscribers.send(alert, target)` / `.send_digest(alerts, target)` / `.send_test(target)`:
  one Apprise delivery to one of its targets, returned as DeliveryOutcome (never raises);
- `render(alert, fmt, max_len)` / `render_digest(alerts, fmt, max_len)`: the message itself;
- `is_quiet`, `next_send_time`, `hold_until`, `is_digest`, `schedule_for`: quiet hours and
  digests given `now` (notify.targets.schedule);
- `check_templates(folder)`: a folder of the user's templates (overriding notify/templates by
  file name) checked at start: names, syntax, a sample of every message (ConfigError file:line);
- `alert_fields(alert)`: the structured fields a JSON webhook gets beside Apprise's (versioned);
- `TERMINAL_URL`: a subscriber that prints to the terminal, for runs with none configured.

Layers, each importing only those below it (an import-linter contract in pyproject.toml):
    targets/    who gets what, when: subscribers' configuration, tags, routing, schedules
    sending/    one message to one target through Apprise, its URLs kept secret
    messages/   what a message says: rendering, escaping, the JSON payload, user templates
Each package's docstring says what it owns, takes and returns; the Jinja2 templates are in
notify/templates.
"""

from notify.messages.payload import PAYLOAD_VERSION, alert_fields
from notify.messages.render import FORMATS, Format, alert_title, render, render_digest
from notify.messages.usertemplates import check_templates
from notify.sending.delivery import TEST_ALERT_ID
from notify.sending.subscribers import Subscribers
from notify.sending.terminal import TERMINAL_URL
from notify.targets.config import load_targets, url_key
from notify.targets.routing import Interest, interest_of, parse_interest, route, with_tag
from notify.targets.schedule import (
    Schedule,
    hold_until,
    is_digest,
    is_quiet,
    next_send_time,
    parse_schedule,
    schedule_for,
)

__all__ = [
    "FORMATS",
    "PAYLOAD_VERSION",
    "TERMINAL_URL",
    "TEST_ALERT_ID",
    "Format",
    "Interest",
    "Schedule",
    "Subscribers",
    "alert_fields",
    "alert_title",
    "check_templates",
    "hold_until",
    "interest_of",
    "is_digest",
    "is_quiet",
    "load_targets",
    "next_send_time",
    "parse_interest",
    "parse_schedule",
    "render",
    "render_digest",
    "route",
    "schedule_for",
    "url_key",
    "with_tag",
]
