"""The subscribers of one run: their Targets and the Apprise services each is sent through.

`notify.load_targets` returns one Subscribers. It owns what Apprise built from the
configuration, so a send always goes through the very service the configuration describes (a
YAML entry can hold options its URL form cannot: an email sender's display name, for one), and
each target's Channel (its Apprise object, what rendering needs to know, a lock), opened on the
target's first send and reused after. Nothing of it lives at module level: whoever sends holds
the Subscribers it loaded, and two loads (two runs in one process, two tests) share nothing.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace

from apprise import NotifyBase

from core.model import Alert, DeliveryOutcome, Target
from notify.sending.delivery import Channel, open_channel, send, send_digest, send_test


class _Services:
    """The Apprise plugins of one load by target key, and their channels once opened."""

    def __init__(self) -> None:
        self._plugins: dict[str, NotifyBase] = {}
        self._channels: dict[str, Channel] = {}
        self._lock = threading.Lock()

    def add(self, key: str, plugin: NotifyBase) -> bool:
        """Keep `plugin` for `key`; False (and nothing kept) when the key already has one."""
        if key in self._plugins:
            return False
        self._plugins[key] = plugin
        return True

    def plugin(self, key: str) -> NotifyBase:
        return self._plugins[key]

    def channel(self, target: Target) -> Channel | None:
        """The target's channel, opened on first use (one per key, whichever thread asks);
        None for a target these services were not loaded for."""
        with self._lock:
            channel = self._channels.get(target.key)
            plugin = self._plugins.get(target.key)
            if channel is None and plugin is not None:
                channel = self._channels[target.key] = open_channel(target.url, plugin)
            return channel


class Subscribers:
    """Loaded, validated subscribers: iterate them (Targets, in configuration order) and send
    to any of them with `send`, `send_digest` or `send_test` (never raise). Sending to a Target
    loaded elsewhere is a failed delivery: no service is ever rebuilt from a target's URL.

    The first target of each key wins: the same subscriber twice would mean every message twice.
    """

    __slots__ = ("_services", "_targets")

    def __init__(self, loaded: Iterable[tuple[Target, NotifyBase]] = ()) -> None:
        """`loaded`: each Target with the plugin Apprise built for it."""
        services = _Services()
        self._targets = tuple(
            target for target, plugin in loaded if services.add(target.key, plugin)
        )
        self._services = services

    @classmethod
    def joined(cls, parts: Iterable[Subscribers]) -> Subscribers:
        """The subscribers of every part, in order, each key once (the first part's wins),
        sent through the parts' services on channels of their own."""
        return cls(pair for part in parts for pair in part._loaded())

    def _loaded(self) -> Iterator[tuple[Target, NotifyBase]]:
        for target in self._targets:
            yield target, self._services.plugin(target.key)

    @property
    def targets(self) -> tuple[Target, ...]:
        return self._targets

    def __iter__(self) -> Iterator[Target]:
        return iter(self._targets)

    def __len__(self) -> int:
        return len(self._targets)

    def __repr__(self) -> str:  # privacy forms only: a Target's URL is secret
        return f"Subscribers({[target.display for target in self._targets]!r})"

    def with_templates(self, folder: str | None) -> Subscribers:
        """The same subscribers (services and channels shared), each rendering its messages
        with the templates of `folder` (None: the shipped ones)."""
        shared = Subscribers.__new__(Subscribers)
        shared._targets = tuple(replace(target, templates=folder) for target in self._targets)
        shared._services = self._services
        return shared

    def channel(self, target: Target) -> Channel:
        """The channel `target` is sent through; KeyError for a target loaded elsewhere."""
        channel = self._services.channel(target)
        if channel is None:
            raise KeyError(f"not one of these subscribers: {target.display}")
        return channel

    def send(self, alert: Alert, target: Target) -> DeliveryOutcome:
        """Deliver one alert to one of these targets; `error` is privacy-safe."""
        return send(alert, target, self._services.channel(target))

    def send_digest(self, alerts: Sequence[Alert], target: Target) -> list[DeliveryOutcome]:
        """Deliver several alerts to one target as one summary; one outcome per alert."""
        return send_digest(alerts, target, self._services.channel(target))

    def send_test(self, target: Target) -> DeliveryOutcome:
        """A short test message (`watchfloor alerts test`); alert_id is TEST_ALERT_ID."""
        return send_test(target, self._services.channel(target))
