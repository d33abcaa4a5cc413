"""All of Accueil's configuration: environment variables with sane defaults.

Every other module reads its configuration here, never from its own
environment look-ups, so `.env.example` lists everything there is to set.
"""

from __future__ import annotations

import datetime as dt
import os
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
    nlu_holdout_dir: Path = Field(
        default=PROJECT_ROOT / "tests" / "nlu_holdout",
        description="Held-out NLU examples, never trained on: the evaluation set of `accueil eval` and of the deployment gate.",
    )
    models_dir: Path = Field(default=PROJECT_ROOT / "models", description="Trained and downloaded models.")
    host: str = Field(default="127.0.0.1", description="Address the servers listen on.")
    rasa_port: int = Field(default=5005, description="Port of the Rasa server (REST and socket.io channels).")
    actions_port: int = Field(default=5055, description="Port of the custom action server.")
    rasa_api_token: Optional[str] = Field(
        default=None,
        description="Token of Rasa's HTTP API (conversations, model loading); the API stays closed when unset.",
    )
    voice_webhook_secret: Optional[str] = Field(
        default=None,
        description="Secret the voice gateway sends to Rasa's voice webhook, which refuses any other caller; "
        "default: a random one kept in VAR_DIR/voice_webhook_secret.",
    )
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
    gate_conversations: bool = Field(
        default=True,
        description="The deployment gate also puts the held-out conversations (tests/conversations) to each model: "
        "a model that loses conversations is refused.",
    )
    log_level: str = Field(default="INFO")
    vosk_model: str = Field(default="vosk-model-small-fr-0.22", description="Vosk model of the voice gateway (voice_gateway/models.yml).")
    piper_voice: str = Field(default="fr_FR-siwis-medium", description="Piper voice of the voice gateway (voice_gateway/models.yml).")
    voice_enabled: bool = Field(default=True, description="Start the voice gateway with `accueil run` when its models are installed.")
    sip_host: str = Field(default="127.0.0.1", description="Address the voice gateway's SIP endpoint binds to.")
    sip_port: int = Field(default=5060, description="SIP port (UDP and TCP) of the voice gateway.")
    sip_allowed_peers: list[str] = Field(
        default=["127.0.0.1"],
        description="Addresses or networks (CIDR) allowed to call the gateway: the PBX or SIP trunk (JSON list; [] allows every peer).",
    )
    voice_ws_port: int = Field(default=8090, description="Port of the WebSocket audio calls (ws://HOST:PORT/call) and of /health.")
    voice_processes: int = Field(
        default=3,
        ge=1,
        description="Voice gateway processes. Each answers up to 4 SIP calls at once (the limit of the PJSIP build on PyPI), "
        "process i on SIP_PORT + 2i and VOICE_WS_PORT + i: the PBX spreads calls over them (it moves on when one says 486 Busy).",
    )
    voice_end_of_turn_ms: int = Field(
        default=300, description="Silence that ends the caller's turn, in milliseconds (raise it for callers who pause mid-sentence)."
    )
    voice_barge_in: bool = Field(default=True, description="The caller speaking stops the bot's audio.")
    voice_silence_timeout: float = Field(default=6.0, description="Seconds of silence after the bot spoke before a reprompt.")
    voice_max_silences: int = Field(default=2, description="Silences in a row before the goodbye and hang-up.")
    voice_phrase_list: bool = Field(
        default=True, description="Narrow recognition to the words of the training data and knowledge base (small Vosk models)."
    )
    voice_transfer_targets: dict[str, str] = Field(
        default_factory=dict,
        description='Where transfers go, by service (JSON): {"admissions": "sip:2001@pbx.example", "consultations": "2002"}.',
    )
    voice_transfer_default: Optional[str] = Field(
        default=None, description="Where a transfer goes for a service not listed in VOICE_TRANSFER_TARGETS (the switchboard)."
    )
    models_mirror: Optional[str] = Field(
        default=None, description="Where `accueil models pull` takes the model files: a folder or a URL (default: their official addresses)."
    )
    tracker_db_url: Optional[str] = Field(
        default=None,
        description="SQLAlchemy URL of Rasa's conversation store (SQLite or PostgreSQL); default: conversations.db in VAR_DIR.",
    )
    retention_days: int = Field(
        default=90, ge=1, description="Days conversations and their traces are kept before `accueil purge` deletes them (GDPR)."
    )
    studio_port: int = Field(default=8081, description="Port of the editors' studio (web application).")
    studio_secret_key: Optional[str] = Field(
        default=None, description="Key signing the studio's session cookies; default: a random key kept in VAR_DIR/studio_secret."
    )
    studio_session_minutes: int = Field(default=480, ge=5, description="Minutes a studio login stays valid.")
    metrics_token: Optional[str] = Field(
        default=None,
        description="Token Prometheus must send (Authorization: Bearer) to read the studio's /metrics; open when unset.",
    )
    studio_low_confidence: float = Field(
        default=0.7, description="Below this NLU confidence, a patient message goes to the studio's inbox."
    )
    finetune_epoch_fraction: float = Field(
        default=0.2,
        gt=0,
        le=1,
        description="Share of the epochs of a full training used when the studio fine-tunes the production model on new examples.",
    )
    analytics_secret: Optional[str] = Field(
        default=None,
        description="Key of the pseudonyms (HMAC-SHA256) of the analytics tables; default: a random key kept in VAR_DIR/analytics_secret.",
    )
    analytics_handling_minutes: float = Field(
        default=4.0, gt=0, description="Average handling time of a phone call, in minutes (calls avoided → ETP saved)."
    )
    analytics_etp_hours: float = Field(default=1607.0, gt=0, description="Yearly working hours of one full-time equivalent (ETP).")
    contact_history_days: int = Field(
        default=30, ge=1, description="Days of a caller's previous contacts recalled by the greeting and the handover summary."
    )
    contact_history_greeting: bool = Field(
        default=True, description="Whether the greeting of a known caller recalls his last contact (false: only the staff see it)."
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
    def rasa_api_token_file(self) -> Path:
        """Where `accueil run` keeps the token it generated for Rasa's HTTP API (mode 600), for `accueil deploy`."""
        return self.var_dir / "rasa_api_token"

    @property
    def metrics_dir(self) -> Path:
        """Where the processes keep their Prometheus metrics (PROMETHEUS_MULTIPROC_DIR), wiped at each `accueil run`."""
        return self.var_dir / "metrics"

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
    def studio_url(self) -> str:
        return f"http://{self.host}:{self.studio_port}"

    @property
    def conversations_db_url(self) -> str:
        """Where Rasa keeps the conversations (its SQL tracker store), read by the studio."""
        return self.tracker_db_url or f"sqlite:///{self.var_dir / 'conversations.db'}"

    @property
    def voice_url(self) -> str:
        return f"ws://{self.host}:{self.voice_ws_port}/call"

    def voice_line(self, index: int) -> "Settings":
        """The settings of voice gateway process `index`: its own SIP and WebSocket ports."""
        return self.copy(update={"sip_port": self.sip_port + 2 * index, "voice_ws_port": self.voice_ws_port + index})

    @property
    def sip_ports(self) -> list[int]:
        return [self.voice_line(i).sip_port for i in range(self.voice_processes)]

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
            PROMETHEUS_MULTIPROC_DIR=str(self.metrics_dir),
        )
        if self.clock is not None:
            env["ACCUEIL_CLOCK"] = self.clock.isoformat()
        return env

    def as_environment(self) -> dict[str, str]:
        """Every setting as the `ACCUEIL_*` variables that give a child process the same settings."""
        import json

        values = json.loads(self.json())
        return {
            f"ACCUEIL_{name.upper()}": value if isinstance(value, str) else json.dumps(value)
            for name, value in values.items()
            if value is not None
        }

    def now(self) -> dt.datetime:
        """The hospital's local time (naive), or the fixed `clock`."""
        from zoneinfo import ZoneInfo

        if self.clock is not None:
            return self.clock.replace(tzinfo=None)
        return dt.datetime.now(ZoneInfo(self.timezone)).replace(tzinfo=None)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
