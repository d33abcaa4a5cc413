"""All of Accueil's configuration: environment variables with sane defaults.

Every other module reads its configuration here, never from its own
environment look-ups, so `.env.example` lists everything there is to set.
"""

from __future__ import annotations

import os
import datetime as dt
from functools import lru_cache
from pathlib import Path
from typing import Optional

from pydantic import BaseSettings, Field

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Accueil's settings, read from `ACCUEIL_*` environment variables or `.env`."""

    db_url: str = Field(
        default=f"sqlite:///{PROJECT_ROOT / 'var' / 'accueil.db'}",
        description="SQLAlchemy URL of the knowledge base (SQLite by default, PostgreSQL in production).",
    )
    kb_source: str = Field(
        default=str(PROJECT_ROOT / "kb_content" / "valmont"),
        description="The editors' sources: a folder of YAML/Markdown, a folder of CSV, an .xlsx file or an http(s) URL.",
    )
    bot_dir: Path = Field(default=PROJECT_ROOT / "bot", description="Rasa project files (config, domain, stories).")
    nlu_dir: Path = Field(default=PROJECT_ROOT / "nlu_data", description="NLU training data owned by the editors.")
    models_dir: Path = Field(default=PROJECT_ROOT / "models", description="Trained and downloaded models.")
    host: str = Field(default="127.0.0.1", description="Address the servers listen on.")
    rasa_port: int = Field(default=5005, description="Port of the Rasa server (REST and socket.io channels).")
    actions_port: int = Field(default=5055, description="Port of the custom action server.")
    cors_origins: list[str] = Field(
        default=["http://127.0.0.1:8080", "http://localhost:8080"],
        description="Web pages allowed to call the Rasa server from a browser (JSON list).",
    )
    var_dir: Path = Field(default=PROJECT_ROOT / "var", description="Runtime state: the SQLite database, logs.")
    startup_timeout: float = Field(default=300.0, description="Seconds to wait for the servers to be ready.")
    log_level: str = Field(default="INFO")
    timezone: str = Field(default="Europe/Paris", description="The hospital's time zone: office hours, callback times.")
    clock: Optional[dt.datetime] = Field(
        default=None,
        description="A fixed local time (ISO 8601) the assistant takes for now; for tests and demos only.",
    )

    class Config:
        env_prefix = "ACCUEIL_"
        env_file = str(PROJECT_ROOT / ".env")
        env_file_encoding = "utf-8"

    @property
    def rasa_models_dir(self) -> Path:
        return self.models_dir / "rasa"

    @property
    def http_cache_dir(self) -> Path:
        return self.var_dir / "kb_http_cache"

    @property
    def log_dir(self) -> Path:
        return self.var_dir / "log"

    @property
    def action_endpoint_url(self) -> str:
        return f"http://{self.host}:{self.actions_port}/webhook"

    def rasa_environment(self) -> dict[str, str]:
        """Environment for every Rasa process Accueil starts (telemetry always off)."""
        env = dict(os.environ)
        env.update(
            RASA_TELEMETRY_ENABLED="false",
            ACCUEIL_DB_URL=self.db_url,
            ACCUEIL_ACTION_ENDPOINT_URL=self.action_endpoint_url,
            TF_CPP_MIN_LOG_LEVEL="2",
            SQLALCHEMY_SILENCE_UBER_WARNING="1",
        )
        if self.clock is not None:
            env["ACCUEIL_CLOCK"] = self.clock.isoformat()
        return env

    def now(self) -> dt.datetime:
        """The hospital's local time (naive), or the fixed `clock`."""
        from zoneinfo import ZoneInfo

        if self.clock is not None:
            return self.clock.replace(tzinfo=None)
        return dt.datetime.now(ZoneInfo(self.timezone)).replace(tzinfo=None)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
