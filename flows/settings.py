"""Settings: the one place that reads the environment (WATCHFLOOR_* variables and `.env`)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Everything configurable, with defaults that run offline on one machine.

    Every field can be set as WATCHFLOOR_<FIELD> (for example WATCHFLOOR_DATABASE_URL), and the
    CLI options override them for one command.
    """

    model_config = SettingsConfigDict(env_prefix="WATCHFLOOR_", env_file=".env", extra="ignore")

    database_url: str = Field(
        "sqlite:///watchfloor.db", description="SQLAlchemy URL of the item store."
    )
    apprise_config: Path | None = Field(
        None, description="Apprise YAML config of subscribers (with tags)."
    )
    notify_urls: list[str] = Field(
        default_factory=list,
        repr=False,
        description="Extra Apprise URLs (JSON list); secret, so never a flow parameter.",
    )
    rules_dir: Path = Field(PROJECT_ROOT / "rules", description="Folder of rule and alias YAML.")
    sources_file: Path = Field(
        PROJECT_ROOT / "deploy" / "sources.yaml", description="YAML list of sources to poll."
    )
    seeds_dir: Path = Field(PROJECT_ROOT / "seeds", description="Articles replayed by default.")
    fetch_concurrency: int = Field(16, ge=1, le=256, description="Feeds fetched at once.")
    fetch_per_host: int = Field(2, ge=1, le=32, description="Feeds fetched at once per host.")
    fetch_batch_size: int = Field(
        250, ge=1, description="Sources per fetch task (tasks per cycle stay few)."
    )
    lookback_days: int = Field(
        30, ge=1, description="How far back stored developments may be joined by new reports."
    )
    delivery_max_attempts: int = Field(8, ge=1, description="Sends tried before giving up.")
    monitor_cron: str = Field("*/10 * * * *", description="Schedule of `watchfloor serve`.")


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment, with non-None `overrides` (CLI options) on top."""
    given = {key: value for key, value in overrides.items() if value is not None}
    return Settings(**given)
