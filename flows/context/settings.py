"""Settings: the one place that reads the environment (WATCHFLOOR_* variables and `.env`)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, ValidationError, field_validator
from pydantic_core import ErrorDetails
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from core.errors import ConfigError, ConfigValidationError

PROJECT_ROOT = Path(__file__).resolve().parents[2]  # the checkout, above flows/context/
# Settings whose values can hold passwords or tokens: errors name them without their value.
SECRET_SETTINGS = frozenset({"database_url", "notify_urls", "web_token"})


def user_cache_dir() -> Path | None:
    """This user's cache folder for Watchfloor (XDG): $XDG_CACHE_HOME/watchfloor, else
    ~/.cache/watchfloor; None when there is no home to put it in (none, or a relative HOME:
    the cache would land wherever a command happens to run)."""
    base = os.environ.get("XDG_CACHE_HOME", "").strip()
    if base and Path(base).is_absolute():
        return Path(base) / "watchfloor"
    try:
        home = Path.home()
    except RuntimeError:  # no HOME and no password entry
        return None
    return home / ".cache" / "watchfloor" if home.is_absolute() else None


class Settings(BaseSettings):
    """Everything configurable, with defaults that run offline on one machine.

    Every field can be set as WATCHFLOOR_<FIELD> (for example WATCHFLOOR_DATABASE_URL), and the
    CLI options override them for one command.

    WATCHFLOOR_FETCH_ALLOW_NETWORKS: feeds are never fetched from private, loopback, link-local
    or otherwise non-public addresses (10/8, 172.16/12, 192.168/16, 127/8, ::1, fc00::/7,
    fe80::/10, 169.254.169.254, 0.0.0.0, ...): not from the configured URL, not after a
    redirect, not when a public-looking name resolves to one. This setting opens the ones an
    intranet feed needs: CIDRs, single addresses or host names, as a comma list
    (`10.20.0.0/16, 192.168.1.5, intranet.example`) or a JSON list (`["10.20.0.0/16"]`). A host
    name allows every address it resolves to; any other name is refused if one of its addresses
    is not allowed. A bad entry stops the run at start. Fetches connect directly, to the
    address that was checked: HTTP_PROXY / HTTPS_PROXY are not used.
    """

    model_config = SettingsConfigDict(env_prefix="WATCHFLOOR_", env_file=".env", extra="ignore")

    database_url: str = Field(
        "sqlite:///watchfloor.db", description="SQLAlchemy URL of the item store."
    )
    apprise_config: Path | None = Field(
        None, description="Apprise YAML config of subscribers (with tags)."
    )
    # `[]`, not default_factory=list: pydantic copies a mutable default per instance, and
    # inspecting the builtin `list` compiles the tokenizer's pattern, ~10 ms of every start.
    notify_urls: Annotated[list[str], NoDecode] = Field(
        [],
        repr=False,
        description=(
            "Extra Apprise URLs: a JSON list, or URLs separated by spaces;"
            " secret, so never a flow parameter."
        ),
    )
    templates_dir: Path | None = Field(
        None,
        description=(
            "Folder of message templates overriding notify/templates/*.j2 by file name"
            " (checked at start)."
        ),
    )
    rules_dir: Path = Field(PROJECT_ROOT / "rules", description="Folder of rule and alias YAML.")
    sources_file: Path = Field(
        PROJECT_ROOT / "deploy" / "sources.yaml", description="YAML list of sources to poll."
    )
    seeds_dir: Path = Field(PROJECT_ROOT / "seeds", description="Articles replayed by default.")
    cache_dir: Path | None = Field(
        default_factory=user_cache_dir,
        description=(
            "Folder where compiled rules are kept between runs ($XDG_CACHE_HOME/watchfloor or"
            " ~/.cache/watchfloor); empty: none kept."
        ),
    )
    fetch_concurrency: int = Field(
        16, ge=1, le=256, description="Feeds fetched at once, at most (while they wait)."
    )
    fetch_per_host: int = Field(2, ge=1, le=32, description="Feeds fetched at once per host.")
    fetch_allow_networks: Annotated[list[str], NoDecode] = Field(
        [],
        description="Private networks, addresses or host names feeds may be fetched from.",
    )
    fetch_batch_size: int = Field(
        250,
        ge=1,
        description="Sources in flight or awaiting their store at a time (bounds memory).",
    )
    lookback_days: int = Field(
        30, ge=1, description="How far back stored developments may be joined by new reports."
    )
    delivery_max_attempts: int = Field(8, ge=1, description="Sends tried before giving up.")
    monitor_cron: str = Field("*/10 * * * *", description="Schedule of `watchfloor serve`.")
    web_token: str | None = Field(
        None,
        repr=False,
        min_length=16,
        description=(
            "Token every request to `watchfloor web` must carry; required to bind beyond"
            " 127.0.0.1. Secret."
        ),
    )

    @field_validator("cache_dir", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        """WATCHFLOOR_CACHE_DIR= (empty) keeps no cache."""
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("fetch_allow_networks", mode="before")
    @classmethod
    def _split_allow_list(cls, value: object) -> object:
        """A comma list or a JSON list from the environment; a list as it is."""
        if isinstance(value, str):
            text = value.strip()
            value = json.loads(text) if text.startswith("[") else text.split(",")
        return value

    @field_validator("notify_urls", mode="before")
    @classmethod
    def _split_notify_urls(cls, value: object) -> object:
        """A JSON list or space-separated URLs from the environment; a list as it is.

        Parsed here rather than by pydantic-settings, whose JSON error is a traceback that
        names neither the variable nor what it must be.
        """
        if not isinstance(value, str):
            return value
        text = value.strip()
        if not text.startswith("["):
            return text.split()
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"must be a JSON list of Apprise URLs: {exc.msg}") from None

    @field_validator("fetch_allow_networks")
    @classmethod
    def _check_allow_list(cls, value: list[str]) -> list[str]:
        """Entries stripped, blanks dropped, each a network, address or host name."""
        entries = [entry.strip() for entry in value if entry.strip()]
        if entries:
            # Imported here: the adapters bring httpx and feedparser, which commands that never
            # fetch (detect, developments) need not load.
            from adapters import NetworkPolicy

            NetworkPolicy.from_entries(entries)  # ValueError names the bad entry
        return entries


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment, with non-None `overrides` (CLI options) on top.

    A value that does not fit its setting is a ConfigValidationError naming the variable (or
    option), what it must be and what was given, one line per bad value.
    """
    # Raw values (a CLI string for a Path): pydantic validates and converts each one, and a
    # value that does not fit is its ValidationError, reported below.
    given: dict[str, Any] = {key: value for key, value in overrides.items() if value is not None}
    try:
        return Settings(**given)
    except ValidationError as exc:
        raise ConfigValidationError(
            [_setting_error(error, given) for error in exc.errors()]
        ) from None


def _setting_error(error: ErrorDetails, given: dict[str, object]) -> ConfigError:
    """One bad value as 'WATCHFLOOR_X: must ... (got ...)', or the CLI option that gave it."""
    field = str(error["loc"][0]) if error["loc"] else ""
    where = (
        f"option --{field.replace('_', '-')}"
        if field in given
        else f"WATCHFLOOR_{field.upper()} (environment or .env)"
    )
    message = str(error["msg"]).removeprefix("Value error, ")  # pydantic's validator prefix
    if field in SECRET_SETTINGS:  # a URL may carry a password: never echo it
        return ConfigError(where, message)
    got = repr(error.get("input"))
    got = got if len(got) <= 80 else got[:77] + "..."
    return ConfigError(where, f"{message} (got {got})")
