"""Send one message to one target through Apprise and say honestly whether it arrived.

A target is sent through its Channel: one Apprise object around the plugin load_targets built
for it (notify.sending.subscribers keeps one per target for the run). Each message is
rendered in the body format the plugin asks for (`notify_format`: an email wants HTML, a JSON
webhook text, Slack Markdown) and within its length limit, so Apprise converts and cuts nothing.

Throttling: Apprise sleeps between two sends of one object when the plugin sets
`request_rate_per_sec`. A plugin that declares its own rate (Slack 1.2 s, Telegram ...) keeps
it: that is the service's limit. Plugins that merely inherit NotifyBase's generic 5.5 s
(email, custom schemas, many webhooks) are unthrottled, else ten emails to one mailbox take
50 seconds.

JSON webhooks (Apprise's `json://` and `jsons://` plugin) also get the alert's structured fields
beside Apprise's own (notify.messages.payload): they are set as the plugin's payload extras for the
one send, under the channel's lock, and the subscriber's own extras (`?:key=value`) are kept.

Outcome: `notify()` returning True is success; False (a failure) and None (nothing was sent)
are failures. Nothing escapes as an exception. The error text comes from what Apprise logged
during the call, scrubbed of every secret of the target.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from apprise import Apprise, NotifyBase, NotifyFormat, NotifyType
from apprise.plugins.custom_json import NotifyJSON

from core.model import Alert, DeliveryOutcome, Level, Target, level_rank
from notify.messages.payload import alert_fields, digest_fields, probe_fields
from notify.messages.render import (
    Format,
    alert_title,
    digest_title,
    render,
    render_digest,
    render_test,
)
from notify.sending.asset import asset
from notify.sending.capture import capture_apprise_log
from notify.sending.privacy import protect, scheme_of, scrub
from notify.sending.terminal import SCHEMA as TERMINAL_SCHEMA

log = logging.getLogger(__name__)

TEST_ALERT_ID = 0  # alert_id of the outcome of send_test (no alert row behind it)
_MAX_ERROR = 400
NOT_LOADED = "subscriber not loaded with the subscribers sending (never rebuilt from its URL)"

_NOTIFY_TYPE: dict[Level, NotifyType] = {
    "critical": NotifyType.FAILURE,
    "high": NotifyType.WARNING,
    "medium": NotifyType.INFO,
    "low": NotifyType.INFO,
}
_FORMATS: dict[NotifyFormat, Format] = {
    NotifyFormat.TEXT: "text",
    NotifyFormat.MARKDOWN: "markdown",
    NotifyFormat.HTML: "html",
}


def declares_own_rate(plugin_class: type) -> bool:
    """Whether a plugin class (or a parent below NotifyBase) sets its own request rate."""
    for cls in plugin_class.__mro__:
        if cls is NotifyBase:
            return False
        if "request_rate_per_sec" in vars(cls):
            return True
    return False


@dataclass(slots=True)
class Channel:
    """A loaded Apprise object for one target, with what rendering needs to know about it."""

    apprise: Apprise
    plugin: NotifyBase
    fragments: frozenset[str]
    lock: threading.Lock

    @property
    def format(self) -> Format:
        """The body format the plugin wants."""
        return _FORMATS.get(NotifyFormat(self.plugin.notify_format), "text")

    @property
    def structured(self) -> bool:
        """Whether the channel posts JSON that can carry the alert's fields as JSON values."""
        return isinstance(self.plugin, NotifyJSON)

    @property
    def title_in_body(self) -> bool:
        """Channels without a title field get the title as the body's first line."""
        return self.plugin.title_maxlen <= 0

    def fit_title(self, title: str) -> str:
        """The title cut to the plugin's limit (Apprise passes long titles on untouched)."""
        if self.title_in_body:
            return ""
        limit = self.plugin.title_maxlen
        return title if len(title) <= limit else title[: limit - 1].rstrip() + "…"

    def body_budget(self, title: str) -> int | None:
        """Characters the body may use, or None for no limit."""
        limit = self.plugin.body_maxlen
        if limit <= 0:
            return None
        limit -= self.plugin.overflow_buffer
        if self.plugin.overflow_amalgamate_title and title:
            limit -= len(title)
        return max(limit, 0)


def open_channel(url: str, plugin: NotifyBase) -> Channel:
    """A Channel sending through `plugin`, the service Apprise built for the target of `url`,
    unthrottled unless its class declares a rate; the URL's secrets are registered."""
    if not declares_own_rate(type(plugin)):
        plugin.request_rate_per_sec = 0
    fragments = (
        frozenset() if scheme_of(url) == TERMINAL_SCHEMA else protect(url, plugin.url(privacy=True))
    )
    apprise = Apprise(asset=asset())
    apprise.add(plugin)
    return Channel(apprise, plugin, fragments, threading.Lock())


def _reason(captured: list[str], result: bool | None) -> str:
    if result is None:
        return "Apprise sent nothing (notify() returned None)"
    return "; ".join(captured) or "Apprise reported a failure (notify() returned False)"


@contextlib.contextmanager
def _fields_added(channel: Channel, fields: Mapping[str, Any] | None) -> Iterator[None]:
    """While sending one message, a JSON channel's payload also carries `fields` (after the
    subscriber's own extras, which may rename Apprise's fields and are kept as they are)."""
    plugin = channel.plugin
    if fields is None or not isinstance(plugin, NotifyJSON):  # what `structured` asks
        yield
        return
    own = plugin.payload_extras
    plugin.payload_extras = {**own, **fields}
    try:
        yield
    finally:
        plugin.payload_extras = own


def _deliver(
    channel: Channel,
    title: str,
    body: str,
    notify_type: NotifyType,
    fields: Mapping[str, Any] | None = None,
) -> str | None:
    """Send through the channel; None when delivered, else the (unscrubbed) reason."""
    with channel.lock, _fields_added(channel, fields), capture_apprise_log() as captured:
        result = channel.apprise.notify(
            body=body,
            title=title,
            notify_type=notify_type,
            body_format=channel.plugin.notify_format,
        )
    return None if result is True else _reason(captured.messages(), result)


Composer = Callable[[Channel], tuple[str, str]]
# Renders (title, body) in a format, within a body length, with or without the title in the body.
BodyRenderer = Callable[[Format, int | None, bool], tuple[str, str]]


def _budgeted(title_of: Callable[[], str], render_body: BodyRenderer) -> Composer:
    """A Composer that fits the title to the channel first, then renders the body within what
    the channel leaves for it after that title."""

    def compose(channel: Channel) -> tuple[str, str]:
        title = channel.fit_title(title_of())
        _, body = render_body(channel.format, channel.body_budget(title), channel.title_in_body)
        return title, body

    return compose


def _send(
    alert_id: int,
    target: Target,
    channel: Channel | None,
    compose: Composer,
    notify_type: NotifyType = NotifyType.INFO,
    fields: Mapping[str, Any] | None = None,
) -> DeliveryOutcome:
    """Render, send, and turn whatever happens into a DeliveryOutcome; without a channel (a
    target its subscribers were not loaded with) nothing is sent and the delivery fails."""
    if channel is None:
        log.warning("alert %s not sent to %s: %s", alert_id, target.display, NOT_LOADED)
        return DeliveryOutcome(alert_id, target.key, ok=False, error=NOT_LOADED)
    try:
        title, body = compose(channel)
        error = _deliver(channel, title, body, notify_type, fields)
    except Exception as exc:  # a delivery must never raise: the ledger records the failure
        error = f"{type(exc).__name__}: {exc}"
    if error is None:
        log.info("delivered alert %s to %s", alert_id, target.display)
        return DeliveryOutcome(alert_id, target.key, ok=True)
    error = scrub(error, channel.fragments)[:_MAX_ERROR]
    log.warning("delivery of alert %s to %s failed: %s", alert_id, target.display, error)
    return DeliveryOutcome(alert_id, target.key, ok=False, error=error)


def send(alert: Alert, target: Target, channel: Channel | None) -> DeliveryOutcome:
    """Deliver one alert to one target through its channel; never raises. `error` is
    privacy-safe."""

    compose = _budgeted(
        lambda: alert_title(alert),
        lambda fmt, budget, title_in_body: render(
            alert, fmt, budget, title_in_body=title_in_body, templates=target.templates
        ),
    )
    notify_type = _NOTIFY_TYPE.get(alert.level, NotifyType.INFO)
    return _send(alert.id, target, channel, compose, notify_type, alert_fields(alert))


def send_digest(
    alerts: Sequence[Alert], target: Target, channel: Channel | None
) -> list[DeliveryOutcome]:
    """Deliver several alerts to one target as one summary; one outcome per alert."""
    if not alerts:
        return []

    compose = _budgeted(
        lambda: digest_title(alerts),
        lambda fmt, budget, title_in_body: render_digest(
            alerts, fmt, budget, title_in_body=title_in_body, templates=target.templates
        ),
    )
    worst = max((a.level for a in alerts), key=level_rank)
    outcome = _send(
        alerts[0].id, target, channel, compose, _NOTIFY_TYPE[worst], digest_fields(alerts)
    )
    return [DeliveryOutcome(a.id, target.key, ok=outcome.ok, error=outcome.error) for a in alerts]


def send_test(target: Target, channel: Channel | None) -> DeliveryOutcome:
    """Send a short test message (for `watchfloor alerts test`); alert_id is TEST_ALERT_ID."""

    def compose(channel: Channel) -> tuple[str, str]:
        title, body = render_test(
            target.display,
            channel.format,
            title_in_body=channel.title_in_body,
            templates=target.templates,
        )
        return channel.fit_title(title), body

    return _send(TEST_ALERT_ID, target, channel, compose, fields=probe_fields())
