"""Delivery to a real local HTTP receiver: json:// and form:// payloads, and every failure."""

from __future__ import annotations

import time

import pytest
from apprise.decorators import notify as apprise_notify

import notify
from core.model import Target
from notify.sending.delivery import NOT_LOADED, declares_own_rate
from tests.notify.notifykit import make_alert, subscriber
from tests.notify.receivers import HttpReceiver


def test_json_post_carries_title_and_body(http: HttpReceiver) -> None:
    hook = subscriber(f"json://127.0.0.1:{http.port}/hook")
    outcome = hook.send(make_alert(id=7))
    assert outcome.ok, outcome
    assert (outcome.alert_id, outcome.target_key, outcome.error) == (7, hook.key, None)
    (request,) = http.received
    assert request.path == "/hook"
    assert request.headers["Content-Type"] == "application/json"
    payload = request.json()
    assert payload["title"] == "[MISSILE LAUNCH] occurred: North Korea fires two ballistic missiles"
    assert payload["type"] == "warning"  # level high
    assert "Reported by 3 outlets: Yonhap, NHK, Kyodo" in payload["message"]
    assert "<https://yna.example/1>" in payload["message"]  # json:// wants text


def test_form_post_fields_and_custom_header(http: HttpReceiver) -> None:
    hook = subscriber(f"form://127.0.0.1:{http.port}/form?+X-Team=desk")
    assert hook.send(make_alert(level="critical")).ok
    (request,) = http.received
    assert request.headers["Content-Type"].startswith("application/x-www-form-urlencoded")
    assert request.headers["X-Team"] == "desk"
    fields = request.form()
    assert fields["title"].startswith("[MISSILE LAUNCH] occurred")
    assert "When: 2026-01-27 15:50 (local time)" in fields["message"]
    assert fields["type"] == "failure"  # level critical


def test_body_format_follows_the_channel(http: HttpReceiver) -> None:
    hostile = make_alert(title="Launch <script>x</script> & *y*")
    subscriber(f"json://127.0.0.1:{http.port}/md?format=markdown").send(hostile)
    subscriber(f"json://127.0.0.1:{http.port}/html?format=html").send(hostile)
    markdown, html = (r.json()["message"] for r in http.received)
    assert "&lt;script&gt;x&lt;/script&gt; &amp; \\*y\\*" in markdown
    assert "**What:**" in markdown
    assert "&lt;script&gt;x&lt;/script&gt; &amp; *y*" in html
    assert "<b>What:</b>" in html


def test_message_stays_within_the_channels_limits(http: HttpReceiver) -> None:
    hook = subscriber(f"json://127.0.0.1:{http.port}/small")
    hook.channel().plugin.body_maxlen = 300  # as a chat service with a short limit would
    big = make_alert(facts={f"fact_{i}": "x" * 40 for i in range(40)})
    assert hook.send(big).ok
    message = http.received[-1].json()["message"]
    assert len(message) <= 300
    assert message.endswith("https://yna.example/1]")


def test_channel_without_title_gets_it_in_the_body(http: HttpReceiver) -> None:
    hook = subscriber(f"json://127.0.0.1:{http.port}/notitle")
    hook.channel().plugin.title_maxlen = 0
    assert hook.send(make_alert()).ok
    payload = http.received[-1].json()
    assert payload["title"] == ""
    assert payload["message"].startswith("[MISSILE LAUNCH] occurred: North Korea")


def test_http_500_is_a_failure(http: HttpReceiver) -> None:
    http.respond(500)
    outcome = subscriber(f"json://127.0.0.1:{http.port}/hook").send(make_alert())
    assert not outcome.ok
    assert outcome.error is not None and "500" in outcome.error
    assert len(http.received) == 1  # Apprise did not retry on its own


def test_receiver_that_stalls_past_the_timeout_is_a_failure(http: HttpReceiver) -> None:
    stall_s = 10.0
    http.respond(200, delay=stall_s)
    started = time.monotonic()
    outcome = subscriber(f"json://127.0.0.1:{http.port}/slow?rto=0.5&cto=0.5").send(make_alert())
    # The send gave up at its 0.5 s timeouts, long before the receiver would have answered (the
    # margin is for a loaded machine running tests in parallel: not a speed assertion).
    assert time.monotonic() - started < stall_s - 2
    assert not outcome.ok
    assert outcome.error and "Connection error" in outcome.error


def test_timeout_detail_is_given_when_apprise_logs_it(
    http: HttpReceiver, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    http.respond(200, delay=3.0)
    outcome = subscriber(f"json://127.0.0.1:{http.port}/slow?rto=0.5").send(make_alert())
    assert outcome.error and "Read timed out" in outcome.error


def test_receiver_down_is_a_failure(closed_port: int) -> None:
    outcome = subscriber(f"json://127.0.0.1:{closed_port}/hook").send(make_alert())
    assert not outcome.ok
    assert outcome.error and "Connection error" in outcome.error


def test_none_from_apprise_is_a_failure(http: HttpReceiver) -> None:
    hook = subscriber(f"json://127.0.0.1:{http.port}/hook")
    hook.channel().apprise.notify = lambda **_: None  # type: ignore[method-assign]
    outcome = hook.send(make_alert())
    assert not outcome.ok
    assert outcome.error and "returned None" in outcome.error


@apprise_notify(on="wftestfail", name="Watchfloor test failure")
def _failing(body: str, title: str, *args: object, **kwargs: object) -> bool:
    return False


@apprise_notify(on="wftestboom", name="Watchfloor test explosion")
def _exploding(body: str, title: str, *args: object, **kwargs: object) -> bool:
    raise RuntimeError("plugin exploded")


def test_plugin_returning_false_or_raising_is_a_failure() -> None:
    for url in ("wftestfail://", "wftestboom://"):
        outcome = subscriber(url).send(make_alert())
        assert not outcome.ok
        assert outcome.error


def test_a_target_loaded_elsewhere_is_a_failure_never_a_rebuild_from_its_url(
    http: HttpReceiver,
) -> None:
    hook = subscriber(f"json://127.0.0.1:{http.port}/hook")
    stranger = Target("another-key", f"json://127.0.0.1:{http.port}/other", "json://...")
    outcome = hook.subscribers.send(make_alert(), stranger)
    assert (outcome.ok, outcome.error) == (False, NOT_LOADED)
    assert hook.subscribers.send_digest([make_alert()], stranger)[0].error == NOT_LOADED
    assert hook.subscribers.send_test(stranger).error == NOT_LOADED
    assert http.received == []
    with pytest.raises(KeyError):
        hook.subscribers.channel(stranger)


def test_send_test_and_digest(http: HttpReceiver) -> None:
    hook = subscriber(f"json://127.0.0.1:{http.port}/hook")
    outcome = hook.send_test()
    assert outcome.ok and outcome.alert_id == notify.TEST_ALERT_ID
    assert http.received[-1].json()["title"] == "Watchfloor test message"
    alerts = [make_alert(id=i, title=f"Launch {i}") for i in (3, 4)]
    outcomes = hook.send_digest(alerts)
    assert [(o.alert_id, o.ok) for o in outcomes] == [(3, True), (4, True)]
    assert len(http.received) == 2  # one message for both
    digest = http.received[-1].json()
    assert digest["title"] == "Watchfloor digest: 2 alerts (2 MISSILE LAUNCH)"
    assert "Launch 3" in digest["message"] and "Launch 4" in digest["message"]
    assert hook.send_digest([]) == []


def test_apprise_object_is_reused_per_target(http: HttpReceiver) -> None:
    hook = subscriber(f"json://127.0.0.1:{http.port}/hook")
    first = hook.channel()
    hook.send(make_alert())
    assert hook.channel() is first


def test_throttle_is_kept_only_where_a_service_declares_it() -> None:
    from apprise.plugins.email.base import NotifyEmail
    from apprise.plugins.slack import NotifySlack

    assert not declares_own_rate(NotifyEmail)  # inherits the generic 5.5 s: dropped
    assert declares_own_rate(NotifySlack)  # Slack's own 1.2 s: kept
    slack = subscriber("slack://WFSECRET1/WFSECRET2/WFSECRETslackC0ffee42/#c")
    assert slack.channel().plugin.request_rate_per_sec == NotifySlack.request_rate_per_sec
