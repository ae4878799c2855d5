"""Subscribers from Apprise YAML and plain URLs: tags, environment, errors with file:line."""

from __future__ import annotations

import hashlib
import textwrap
from pathlib import Path

import pytest

import notify
from core.errors import ConfigError, ConfigValidationError
from tests.notify.notifykit import SHIPPED_SUBSCRIBERS, set_shipped_secrets


def _write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "subscribers.yaml"
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return str(path)


def test_yaml_config_with_tags(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        """
        version: 1
        urls:
          - json://127.0.0.1:8001/plain
          - json://127.0.0.1:8002/tagged:
              - tag: missile_launch, region:korean_peninsula, level:high
          - mailto://127.0.0.1:8025:
              - to: ops@example.com
                from: alerts@example.com
                tag: digest:daily@07, tz:Asia/Tokyo
        """,
    )
    plain, tagged, mail = notify.load_targets(path)
    assert plain.tags == frozenset()
    assert plain.url == "json://127.0.0.1:8001/plain"
    assert plain.key == hashlib.sha256(plain.url.encode()).hexdigest()
    assert tagged.tags == {"missile_launch", "region:korean_peninsula", "level:high"}
    assert mail.tags == {"digest:daily@07", "tz:asia/tokyo"}
    assert mail.display == "mailto://127.0.0.1:8025/ops%40example.com"
    assert notify.schedule_for(mail).digest == "daily"


def test_global_tags_and_one_url_with_several_option_sets(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        """
        version: 1
        tag: team:ops
        urls:
          - mailto://127.0.0.1:8025?from=alerts@example.com:
              - to: a@example.com
                tag: summit
              - to: b@example.com
                tag: missile_launch
        """,
    )
    first, second = notify.load_targets(path)
    assert first.tags == {"team:ops", "summit"}
    assert second.tags == {"team:ops", "missile_launch"}
    assert first.key != second.key
    assert "a%40example.com" in first.display and "b%40example.com" in second.display


def test_plain_urls_are_untagged_and_deduplicated(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        """
        urls:
          - json://127.0.0.1:8001/hook:
              tag: summit
        """,
    )
    targets = notify.load_targets(
        path, ["json://127.0.0.1:8001/hook", "form://127.0.0.1:9/f"]
    ).targets
    assert [t.display for t in targets] == ["json://127.0.0.1:8001/hook", "form://127.0.0.1:9/f"]
    assert targets[0].tags == {"summit"}  # the file's entry wins over the same --notify URL
    assert targets[1].tags == frozenset()
    assert notify.load_targets(None, ["json://127.0.0.1:8001/hook"]).targets[0].tags == frozenset()
    assert notify.load_targets(None).targets == ()


def test_terminal_url_loads() -> None:
    (terminal,) = notify.load_targets(None, [notify.TERMINAL_URL])
    assert notify.TERMINAL_URL == "watchfloor://terminal"
    assert terminal.display == "watchfloor://"


def test_environment_variables_fill_in_credentials(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WF_TEST_PASSWORD", "WFSECRET-pa55w0rd-env")
    monkeypatch.setenv("WF_TEST_TO", "desk@example.com")
    monkeypatch.delenv("WF_TEST_UNSET", raising=False)
    path = _write(
        tmp_path,
        """
        urls:
          - mailtos://alerts:${WF_TEST_PASSWORD}@smtp.example.com:
              - to: ${WF_TEST_TO}
                tag: ${WF_TEST_UNSET:-summit}
          - json://127.0.0.1:8001/$${literal}
        """,
    )
    mail, hook = notify.load_targets(path)
    assert "WFSECRET-pa55w0rd-env" in mail.url
    assert "WFSECRET-pa55w0rd-env" not in mail.display
    assert "desk%40example.com" in mail.display
    assert mail.tags == {"summit"}
    assert hook.url == "json://127.0.0.1:8001/${literal}"


def test_key_survives_credential_rotation_and_tag_edits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def key(password: str, tag: str) -> str:
        monkeypatch.setenv("WF_TEST_PASSWORD", password)
        path = _write(
            tmp_path,
            f"""
            urls:
              - json://user:${{WF_TEST_PASSWORD}}@127.0.0.1:8001/hook:
                  tag: {tag}
            """,
        )
        return notify.load_targets(path).targets[0].key

    assert key("WFSECRET-old", "summit") == key("WFSECRET-new", "missile_launch")


def test_unset_variable_is_an_error_at_its_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("WF_TEST_MISSING", raising=False)
    path = _write(
        tmp_path,
        """
        version: 1
        urls:
          - json://127.0.0.1:8001/ok
          - json://user:${WF_TEST_MISSING}@127.0.0.1:8002/hook
        """,
    )
    with pytest.raises(ConfigError) as caught:
        notify.load_targets(path)
    assert caught.value.line == 4
    assert str(caught.value) == f"{path}:4: environment variable WF_TEST_MISSING is not set"


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        ("urls:\n  - json://x\n bad: [", 3, "invalid YAML"),
        ("- json://127.0.0.1/x\n", 1, "expected an Apprise YAML config"),
        ("version: 1\n", 1, "no `urls:` list"),
        ("urls: json://127.0.0.1/x\n", 1, "`urls:` must be a list"),
        ("version: 2\nurls: []\n", 1, "version: 1"),
        ("urls: []\nurl: json://127.0.0.1/x\n", 2, "unknown key 'url'"),
        ("urls: []\ninclude: http://example.com/more.yaml\n", 2, "`include:` is not supported"),
        ("urls: []\nasset:\n  app_id: x\n", 2, "`asset:` is not supported"),
        ("urls: []\ngroups:\n  desk: summit\n", 2, "`groups:` is not supported"),
        (
            "urls:\n  - json://127.0.0.1/ok\n  - nosuchschema://host/path\n",
            3,
            "unknown Apprise schema",
        ),
        ("urls:\n  - not a url\n", 2, "not an Apprise URL"),
        ("urls:\n  - json://\n", 2, "Apprise cannot load this json:// URL"),
        ("urls:\n  - 42\n", 2, "entry must be a URL"),
        ("urls:\n  - tag: x\n", 2, "entry has no URL"),
        ("urls:\n  - json://127.0.0.1/x:\n      tag: level:urgent\n", 3, "unknown level"),
        ("urls:\n  - json://127.0.0.1/x:\n      tag: quiet:25-07\n", 3, "quiet"),
        ("urls:\n  - json://127.0.0.1/x:\n      tag: tz:Mars/Olympus\n", 3, "unknown time zone"),
    ],
)
def test_bad_config_names_file_line_and_reason(
    tmp_path: Path, text: str, line: int, reason: str
) -> None:
    path = tmp_path / "subscribers.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        notify.load_targets(str(path))
    assert caught.value.path == str(path)
    assert caught.value.line == line
    assert reason in caught.value.reason


def test_an_option_set_apprise_refuses_is_an_error(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        """
        urls:
          - mailto://127.0.0.1:8025:
              - to: a@example.com
                from: alerts@example.com
              - to: b@example.com
        """,
    )
    with pytest.raises(ConfigError) as caught:
        notify.load_targets(path)
    assert caught.value.line == 2
    assert "From" in caught.value.reason  # Apprise's own explanation is passed on


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        notify.load_targets(str(tmp_path / "nope.yaml"))


def test_every_problem_is_reported_together(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        """
        urls:
          - nosuch://a
          - json://127.0.0.1/ok
          - alsonot://b
        """,
    )
    with pytest.raises(ConfigValidationError) as caught:
        notify.load_targets(path, ["bogus://c"])
    assert [(e.path, e.line) for e in caught.value.errors] == [
        (path, 2),
        (path, 4),
        ("--notify URL #1", None),
    ]


def test_bad_plain_url() -> None:
    with pytest.raises(ConfigError) as caught:
        notify.load_targets(None, ["json://127.0.0.1/ok", "tgram://"])
    assert caught.value.path == "--notify URL #2"
    assert "tgram://" in caught.value.reason


@pytest.mark.parametrize(
    "url",
    [
        "nosuch://user:WFSECRET_TOKEN_123@example.com/hook",
        "tgram://WFSECRET_TOKEN_123/",
        "json://user:WFSECRET_TOKEN_123@/hook",
        "WFSECRET_TOKEN_123",
    ],
    ids=["unknown-schema", "bad-telegram-token", "json-without-host", "bare-token"],
)
def test_config_errors_never_show_the_secret(
    tmp_path: Path, url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    path = tmp_path / "subscribers.yaml"
    path.write_text(f"urls:\n  - {url}\n", encoding="utf-8")
    for call in (lambda: notify.load_targets(str(path)), lambda: notify.load_targets(None, [url])):
        with pytest.raises(ConfigError) as caught:
            call()
        assert "WFSECRET_TOKEN_123" not in str(caught.value)
    assert "WFSECRET_TOKEN_123" not in caplog.text


def test_shipped_example_config_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    secrets = set_shipped_secrets(monkeypatch)
    targets = notify.load_targets(str(SHIPPED_SUBSCRIBERS)).targets
    assert len(targets) == 4
    for target in targets:
        notify.parse_interest(target.tags)
        notify.schedule_for(target)
        for name, value in secrets.items():
            if name != "SMTP_USER":
                assert value not in target.display, (name, target.display)
    assert notify.schedule_for(targets[2]).digest == "daily"
