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
    web_port: int = Field(default=8080, description="Port of the web server: the widget's files and the demo page.")
    cors_origins: list[str] = Field(
        default_factory=list,
        description="Web pages allowed to call the Rasa server from a browser (JSON list); the demo page is always allowed.",
    )
    public_rasa_url: Optional[str] = Field(
        default=None,
        description="The Rasa server's address as browsers reach it (the widget's data-server); default http://HOST:RASA_PORT.",
    )
    link_hosts: list[str] = Field(
        default=["ch-valmont.fr"],
        description="Hosts (and their subdomains) the widget may show as clickable links (JSON list).",
    )
    max_message_length: int = Field(default=1000, description="Longest patient message accepted, in characters.")
    var_dir: Path = Field(default=PROJECT_ROOT / "var", description="Runtime state: the SQLite database, logs.")
    startup_timeout: float = Field(default=300.0, description="Seconds to wait for the servers to be ready.")
    log_level: str = Field(default="INFO")
    vosk_model: str = Field(default="vosk-model-small-fr-0.22", description="Vosk model of the voice gateway (voice_gateway/models.yml).")
    piper_voice: str = Field(default="fr_FR-siwis-medium", description="Piper voice of the voice gateway (voice_gateway/models.yml).")
    models_mirror: Optional[str] = Field(
        default=None, description="Where `accueil models pull` takes the model files: a folder or a URL (default: their official addresses)."
    )
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
    def web_url(self) -> str:
        return f"http://{self.host}:{self.web_port}"

    @property
    def rasa_url(self) -> str:
        return self.public_rasa_url or f"http://{self.host}:{self.rasa_port}"

    @property
    def allowed_origins(self) -> list[str]:
        """Origins allowed to call Rasa from a browser: the configured ones plus the demo page's."""
        demo = [self.web_url, f"http://localhost:{self.web_port}"]
        return list(dict.fromkeys([*self.cors_origins, *demo]))

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
            ACCUEIL_MAX_MESSAGE_LENGTH=str(self.max_message_length),
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
