"""Secrets in Apprise URLs never reach logs, errors or output: only the privacy form does."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

import notify
from notify.sending.privacy import display_form, scrub, secret_fragments
from tests.notify.notifykit import MAIL_QUERY, make_alert, only, subscriber
from tests.notify.receivers import HttpReceiver, SmtpReceiver

# Every credential in a test Apprise URL belongs to one family (contains WFSECRET), so the
# session-wide audit (tests/secret_audit.py) can grep logs and artifacts for any of them.
TOKEN = "WFSECRET_TOKEN_123"
HEADER_TOKEN = "WFSECRET_HDR_456"
PATH_TOKEN = "WFSECRETPATH789XYZ"
SECRETS = (TOKEN, HEADER_TOKEN, PATH_TOKEN)


def _leaks(text: str) -> list[str]:
    return [secret for secret in SECRETS if secret in text]


def _all_log_text(caplog: pytest.LogCaptureFixture) -> str:
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    return "\n".join(formatter.format(record) for record in caplog.records)


def test_token_in_url_appears_in_no_log_error_or_output(
    http: HttpReceiver,
    closed_port: int,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)  # everything Apprise, requests and urllib3 say
    url = f"json://user:{TOKEN}@127.0.0.1:{http.port}/hook"
    hook = subscriber(url)
    assert hook.target.display == f"json://user:****@127.0.0.1:{http.port}/hook"

    assert hook.send(make_alert()).ok
    assert http.received[-1].headers["Authorization"].startswith("Basic ")  # it was used
    http.respond(500)
    failed = hook.send(make_alert())
    down = subscriber(f"json://user:{TOKEN}@127.0.0.1:{closed_port}/x").send(make_alert())
    tested = hook.send_test()

    errors = [o.error or "" for o in (failed, down, tested)]
    assert not failed.ok and not down.ok
    assert _leaks(" ".join(errors)) == []
    assert _leaks(_all_log_text(caplog)) == []
    assert _leaks(capsys.readouterr().out + capsys.readouterr().err) == []
    assert "json://user:****@127.0.0.1" in _all_log_text(caplog)  # the privacy form is shown


def test_header_and_path_tokens_are_secret_too(
    http: HttpReceiver, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    url = f"form://127.0.0.1:{http.port}/hooks/{PATH_TOKEN}?+X-Api-Key={HEADER_TOKEN}"
    hook = subscriber(url)
    assert _leaks(hook.target.display) == []
    assert hook.target.display == f"form://127.0.0.1:{http.port}/hooks/W...Z"
    assert hook.send(make_alert()).ok
    assert http.received[-1].headers["X-Api-Key"] == HEADER_TOKEN
    assert http.received[-1].path == f"/hooks/{PATH_TOKEN}"
    http.respond(503)
    outcome = hook.send(make_alert())
    assert not outcome.ok and _leaks(outcome.error or "") == []
    assert _leaks(_all_log_text(caplog)) == []


def test_email_password_stays_secret(
    smtp: SmtpReceiver,
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("WF_TEST_SMTP_PASSWORD", TOKEN)
    config = tmp_path / "subscribers.yaml"
    config.write_text(
        "urls:\n"
        f"  - mailto://alerts:${{WF_TEST_SMTP_PASSWORD}}@127.0.0.1:{smtp.port}?{MAIL_QUERY}&cto=1:\n"
        "      tag: all\n",
        encoding="utf-8",
    )
    mailbox = only(notify.load_targets(str(config)))
    assert TOKEN in mailbox.target.url and TOKEN not in mailbox.target.display
    # aiosmtpd offers no AUTH without TLS: the login fails, and the failure must not leak
    outcome = mailbox.send(make_alert())
    assert not outcome.ok
    assert _leaks(outcome.error or "") == []
    assert _leaks(_all_log_text(caplog)) == []


def test_exception_text_is_scrubbed() -> None:
    url = f"json://user:{TOKEN}@example.com/{PATH_TOKEN}"
    fragments = secret_fragments(url, f"json://user:****@example.com/{PATH_TOKEN}?method=POST")
    text = f"boom while posting {url} with {TOKEN} and {PATH_TOKEN}"
    cleaned = scrub(text, fragments | secret_fragments(url, None))
    assert _leaks(cleaned) == []


def test_display_form_drops_the_query_and_masks_webhook_paths() -> None:
    assert display_form("json://h/a/WFSECRETLONG123?+X=1&format=text") == "json://h/a/W...3"
    assert display_form("mailto://h/ops%40example.com?from=x") == "mailto://h/ops%40example.com"
    assert (
        display_form("slack://T...2/A...D/T...Q/%23c/?image=yes")
        == "slack://T...2/A...D/T...Q/%23c/"
    )
