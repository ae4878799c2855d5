"""JSON webhooks carry the alert's structured fields as JSON values; user templates override the
shipped ones and are checked at start. A real local HTTP receiver, real Apprise sends."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

import notify
from core.errors import ConfigError, ConfigValidationError
from core.model import EvidenceRef
from tests.notify.notifykit import make_alert, subscriber
from tests.notify.receivers import HttpReceiver

PUBLISHED = datetime(2026, 1, 27, 7, 12, tzinfo=UTC)


def test_json_webhook_gets_the_fields_as_json_values(http: HttpReceiver) -> None:
    alert = make_alert(
        id=9,
        development_id=4,
        regions=("japan", "korea"),
        evidence=(EvidenceRef("Yonhap", "N. Korea fires", "https://yna.example/1", PUBLISHED),),
    )
    assert subscriber(f"json://127.0.0.1:{http.port}/hook").send(alert).ok
    payload = http.received[0].json()
    # Apprise's own fields are still there, so a receiver written for Apprise keeps working.
    assert payload["title"].startswith("[MISSILE LAUNCH] occurred")
    assert "Reported by 1 outlet" in payload["message"]
    assert payload["watchfloor"] == 1
    assert (payload["alert_id"], payload["development_id"]) == (9, 4)
    assert (payload["category"], payload["status"], payload["change"]) == (
        "missile_launch",
        "occurred",
        "new",
    )
    assert payload["regions"] == ["japan", "korea"]
    assert payload["event_date"] == "2026-01-27"
    assert payload["facts"] == {"count": 2, "apogee_km": 80, "range_km": 350, "local_time": "15:50"}
    assert payload["evidence"] == [
        {
            "outlet": "Yonhap",
            "title": "N. Korea fires",
            "url": "https://yna.example/1",
            "published": "2026-01-27T07:12:00+00:00",
        }
    ]
    assert payload["headline"] == "North Korea fires two ballistic missiles"


def test_the_subscribers_own_payload_mapping_is_kept(http: HttpReceiver) -> None:
    hook = subscriber(f"json://127.0.0.1:{http.port}/hook?:message=text&:team=desk")
    assert hook.send(make_alert()).ok
    assert hook.send(make_alert(id=2)).ok  # the extras of one send do not stick
    first, second = (r.json() for r in http.received)
    assert "message" not in first and "Reported by" in first["text"]
    assert first["team"] == "desk" and first["alert_id"] == 1 and second["alert_id"] == 2
    assert set(first) == set(second)


def test_form_webhooks_and_digests(http: HttpReceiver) -> None:
    form = subscriber(f"form://127.0.0.1:{http.port}/form")
    assert form.send(make_alert()).ok
    assert "watchfloor" not in http.take()[0].form()  # only JSON carries structure
    hook = subscriber(f"json://127.0.0.1:{http.port}/digest")
    outcomes = hook.send_digest([make_alert(id=1), make_alert(id=2, kind="status_change")])
    assert all(o.ok for o in outcomes)
    payload = http.received[0].json()
    assert payload["watchfloor"] == 1
    assert [(a["alert_id"], a["change"]) for a in payload["alerts"]] == [
        (1, "new"),
        (2, "status_change"),
    ]


def _folder(tmp_path: Path, **files: str) -> str:
    folder = tmp_path / "templates"
    folder.mkdir()
    for name, text in files.items():
        (folder / name.replace("_", ".")).write_text(text, encoding="utf-8")
    return str(folder)


def test_a_user_template_replaces_the_shipped_one_and_keeps_escaping(
    tmp_path: Path, http: HttpReceiver
) -> None:
    folder = _folder(
        tmp_path,
        alert_txt_j2="DESK NOTE {{ a.headline }} / {{ a.regions }}\n",
        alert_html_j2="<p>{{ a.headline }}</p>\n",
    )
    notify.check_templates(folder)
    hook = subscriber(f"json://127.0.0.1:{http.port}/hook")
    assert hook.with_templates(folder).send(make_alert(regions=("korea",))).ok
    assert http.received[0].json()["message"] == (
        "DESK NOTE North Korea fires two ballistic missiles / korea"
    )
    hostile = make_alert(title="<script>x</script>")
    _, html = notify.render(hostile, "html", templates=folder)
    assert html == "<p>&lt;script&gt;x&lt;/script&gt;</p>"
    _, markdown = notify.render(hostile, "markdown", templates=folder)  # not overridden
    assert "**What:**" in markdown


def test_a_broken_template_is_a_config_error_at_its_line(tmp_path: Path) -> None:
    folder = _folder(tmp_path, alert_md_j2="ok\n{% if a.where %}\nno end\n")
    with pytest.raises(ConfigError) as caught:
        notify.check_templates(folder)
    assert caught.value.path.endswith("alert.md.j2") and caught.value.line == 3
    assert "TemplateSyntaxError" in caught.value.reason


def test_unknown_variables_and_names_are_reported_together(tmp_path: Path) -> None:
    folder = _folder(
        tmp_path, alert_txt_j2="{{ a.headline }}\n{{ a.colour }}\n", alrt_html_j2="x\n"
    )
    with pytest.raises(ConfigValidationError) as caught:
        notify.check_templates(folder)
    shown = sorted(str(e) for e in caught.value.errors)
    assert shown[0].endswith(
        "alert.txt.j2:2: template error: UndefinedError: 'dict object' has no attribute 'colour'"
    ), shown
    assert (
        "alrt.html.j2: not a Watchfloor template name (did you mean 'alert.html.j2'?)" in shown[1]
    )


def test_a_missing_folder_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="templates folder does not exist"):
        notify.check_templates(str(tmp_path / "nowhere"))
