"""Delivery to a real local SMTP server (aiosmtpd): headers, both parts, escaping, failures."""

from __future__ import annotations

from email.message import Message
from pathlib import Path

import notify
from core.model import EvidenceRef
from tests.notify.notifykit import MAIL_QUERY, make_alert, only, subscriber
from tests.notify.receivers import SmtpReceiver


def _parts(message: Message) -> dict[str, str]:
    return {
        part.get_content_type(): part.get_payload(decode=True).decode(part.get_content_charset())
        for part in message.walk()
        if not part.is_multipart()
    }


def _mailbox(smtp: SmtpReceiver) -> str:
    return f"mailto://127.0.0.1:{smtp.port}?{MAIL_QUERY}"


def test_email_headers_and_text_and_html_parts(smtp: SmtpReceiver) -> None:
    outcome = subscriber(_mailbox(smtp)).send(make_alert())
    assert outcome.ok, outcome
    (message,) = smtp.messages
    assert (
        message["Subject"] == "[MISSILE LAUNCH] occurred: North Korea fires two ballistic missiles"
    )
    assert message["From"] == "alerts@example.com"
    assert message["To"] == "ops@example.com"
    assert message["X-Application"] == "Watchfloor"
    assert message.get_content_type() == "multipart/alternative"
    parts = _parts(message)
    assert set(parts) == {"text/plain", "text/html"}
    assert (
        '<a href="https://yna.example/1">N. Korea fires 2 ballistic missiles</a>'
        in parts["text/html"]
    )
    assert "Reported by 3 outlets: Yonhap, NHK, Kyodo" in parts["text/plain"]
    assert "When: 2026-01-27 15:50 (local time)" in parts["text/plain"]
    assert smtp.handler.envelopes[0].rcpt_tos == ["ops@example.com"]


def test_feed_text_is_escaped_in_the_html_part(smtp: SmtpReceiver) -> None:
    hostile = make_alert(
        title="Missiles <script>alert('x')</script> & more",
        evidence=(
            EvidenceRef(
                "A & B <News>", "Q&A: <script>steal()</script>", "https://ab.example/q?x=1&y=2"
            ),
        ),
    )
    assert subscriber(_mailbox(smtp)).send(hostile).ok
    (message,) = smtp.messages
    html = _parts(message)["text/html"]
    assert "<script" not in html
    assert "Missiles &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; more" in html
    assert (
        'A &amp; B &lt;News&gt;: <a href="https://ab.example/q?x=1&amp;y=2">'
        "Q&amp;A: &lt;script&gt;steal()&lt;/script&gt;</a>"
    ) in html
    # the subject is a plain-text header: shown as written, not HTML-escaped
    assert (
        message["Subject"]
        == "[MISSILE LAUNCH] occurred: Missiles <script>alert('x')</script> & more"
    )


def test_smtp_refusal_is_a_failure(smtp: SmtpReceiver) -> None:
    smtp.handler.refuse = True
    outcome = subscriber(_mailbox(smtp)).send(make_alert())
    assert not outcome.ok
    assert outcome.error and "failed" in outcome.error
    assert smtp.messages == []


def test_smtp_server_down_is_a_failure(closed_port: int) -> None:
    mailbox = subscriber(f"mailto://127.0.0.1:{closed_port}?{MAIL_QUERY}&cto=1")
    outcome = mailbox.send(make_alert())
    assert not outcome.ok
    assert outcome.error


def test_email_throttle_is_off(smtp: SmtpReceiver) -> None:
    """Apprise would wait ~5.5 s between two emails of one object: ten would take 50 s."""
    mailbox = subscriber(_mailbox(smtp))
    outcomes = [mailbox.send(make_alert(id=i)) for i in range(10)]
    assert all(o.ok for o in outcomes)
    assert len(smtp.messages) == 10
    assert mailbox.channel().plugin.request_rate_per_sec == 0


def test_yaml_configured_mailbox(smtp: SmtpReceiver, tmp_path: Path) -> None:
    config = tmp_path / "subscribers.yaml"
    config.write_text(
        f"urls:\n"
        f"  - mailto://127.0.0.1:{smtp.port}:\n"
        f"      - to: desk@example.com\n"
        f"        from: Watchfloor <alerts@example.com>\n"
        f"        tag: missile_launch\n",
        encoding="utf-8",
    )
    desk = only(notify.load_targets(str(config)))
    assert notify.route(make_alert(), [desk.target]) == [desk.target]
    assert desk.send(make_alert()).ok
    (message,) = smtp.messages
    assert message["To"] == "desk@example.com"
    assert (
        message["From"] == "Watchfloor <alerts@example.com>"
    )  # kept: the YAML-built plugin is used
