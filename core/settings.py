"""All of Accueil's configuration: environment variables with sane defaults.

Every other module reads its configuration here, never from its own
environment look-ups, so `.env.example` lists everything there is to set.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from functools import lru_cache
from pathlib import Path
from typing import Optional
from urllib.parse import urlsplit

from pydantic import BaseSettings, Field

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Accueil's settings, read from `ACCUEIL_*` environment variables or `.env`."""

    db_url: str = Field(
        default=f"sqlite:///{PROJECT_ROOT / 'var' / 'accueil.db'}",
        description="SQLAlchemy URL of the knowledge base (SQLite by default, PostgreSQL in production).",
    )
    db_wait_seconds: float = Field(
        default=10.0,
        gt=0,
        description="How long an action waits for a locked SQLite file or a PostgreSQL connection before the patient is "
        "told the service is briefly unavailable, in seconds.",
    )
    switchboard_phone: Optional[str] = Field(
        default=None,
        description="The switchboard's number said while the assistant is partly away, when the knowledge base's "
        "organisation cannot be read (it is read from there otherwise).",
    )
    kb_source: str = Field(
        default=str(PROJECT_ROOT / "kb_content" / "valmont"),
        description="The editors' sources: a folder of YAML/Markdown, a folder of CSV, an .xlsx file or an http(s) URL.",
    )
    kb_http_allow_http: bool = Field(
        default=False,
        description="Accept a plain http:// knowledge-base URL (a test server on this machine); otherwise https:// only.",
    )
    kb_http_max_mb: float = Field(default=20.0, gt=0, description="Largest knowledge-base document read from a URL, in MB.")
    kb_http_ca_file: Optional[Path] = Field(
        default=None, description="CA certificates (PEM) the knowledge-base URL's certificate is checked against; default: the system's."
    )
    kb_http_timeout: float = Field(
        default=10.0, gt=0, description="Seconds to connect to the knowledge-base URL and between two reads; the whole download within 6 times that."
    )
    bot_dir: Path = Field(default=PROJECT_ROOT / "bot", description="Rasa project files (config, domain, stories).")
    nlu_dir: Path = Field(default=PROJECT_ROOT / "nlu_data", description="NLU training data owned by the editors.")
    nlu_holdout_dir: Path = Field(
        default=PROJECT_ROOT / "tests" / "nlu_holdout",
        description="Held-out NLU examples, never trained on: the evaluation set of `accueil eval` and of the deployment gate.",
    )
    models_dir: Path = Field(default=PROJECT_ROOT / "models", description="Trained and downloaded models.")
    host: str = Field(
        default="127.0.0.1",
        description="Private bind: address of what only the hospital's own services reach (the action server, "
        "Rasa's HTTP API and voice webhook, the studio and /metrics); keep it on loopback or an administration network.",
    )
    public_host: str = Field(
        default="127.0.0.1",
        description="Public bind: address of what patients reach (the web server, Rasa's web channels, the call "
        "WebSocket), normally behind the hospital's TLS reverse proxy (deploy/nginx/accueil.conf).",
    )
    rasa_port: int = Field(
        default=5005,
        description="Port of the Rasa servers on the private bind (HOST): their HTTP API, the voice webhook and every channel "
        "(shared by the replicas: each new connection goes to one that is up).",
    )
    public_rasa_port: int = Field(
        default=5006,
        description="Port of Rasa's web channels (REST webhook, socket.io) on the public bind (PUBLIC_HOST); nothing else answers "
        "there (shared by the replicas, as RASA_PORT).",
    )
    rasa_replicas: int = Field(
        default=2,
        ge=1,
        le=8,
        description="Rasa servers serving the same model side by side (about 2.2 GB of memory each): while one restarts "
        "(a crash, a minute to load the model) or loads a new model, the others answer. 1 saves memory, at the cost of "
        "a minute without answers when the Rasa server stops.",
    )
    rasa_replica_port: int = Field(
        default=5007,
        description="Rasa server i's own port on the private bind is RASA_REPLICA_PORT + i: its health check and the "
        "loading of a new model into it.",
    )
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
        description="The Rasa server's address as browsers reach it (the widget's data-server); "
        "default http://PUBLIC_HOST:PUBLIC_RASA_PORT.",
    )
    public_voice_url: Optional[str] = Field(
        default=None,
        description="The call WebSocket's address as browsers reach it (the « Appeler » button), wss://… behind a TLS "
        "reverse proxy; default ws://PUBLIC_HOST:VOICE_WS_PORT/call.",
    )
    link_hosts: list[str] = Field(
        default=["ch-valmont.fr"],
        description="Hosts (and their subdomains) the widget may show as clickable links (JSON list).",
    )
    max_message_length: int = Field(default=1000, description="Longest patient message accepted, in characters.")
    max_request_bytes: int = Field(
        default=16384,
        ge=4096,
        description="Largest HTTP request body (and socket.io message) the public servers accept, in bytes: "
        "Rasa's channels and API, the web server.",
    )
    rate_limit_sender: int = Field(
        default=30,
        ge=0,
        description="Messages one conversation (sender id) may send per minute on the web channels (REST, socket.io), "
        "in bursts of as many; beyond, a polite refusal and nothing is stored. 0: no limit.",
    )
    rate_limit_address: int = Field(
        default=600,
        ge=0,
        description="Messages one client address may send per minute on the web channels, in bursts of as many "
        "(the patients behind one proxy share it unless TRUSTED_PROXIES names the proxy). 0: no limit.",
    )
    trusted_proxies: list[str] = Field(
        default=["127.0.0.1", "::1"],
        description="Reverse proxies (addresses or CIDR networks, JSON list) whose X-Forwarded-For header gives the "
        "client's address for the rate limit; any other peer's header is ignored.",
    )
    var_dir: Path = Field(default=PROJECT_ROOT / "var", description="Runtime state: the SQLite database, logs.")
    startup_timeout: float = Field(default=300.0, description="Seconds to wait for the servers to be ready.")
    gate_conversations: bool = Field(
        default=True,
        description="The deployment gate also puts the held-out conversations (tests/conversations) to each model: "
        "a model that loses conversations is refused.",
    )
    log_level: str = Field(default="INFO")
    log_content: bool = Field(
        default=False,
        description="Log what patients say and write and the bot's sentences (transcripts, numbers, SIP messages): "
        "for a debugging session only, announced by a warning at start. Off: ids and intents only, personal data masked.",
    )
    log_max_mb: int = Field(default=10, ge=1, description="Size of a log file (MB) before it is rotated (VAR_DIR/log/*.log).")
    log_backups: int = Field(default=5, ge=1, description="Rotated copies kept of each log file (name.log.1, name.log.2, …).")
    vosk_model: str = Field(default="vosk-model-small-fr-0.22", description="Vosk model of the voice gateway (voice_gateway/models.yml).")
    piper_voice: str = Field(default="fr_FR-siwis-medium", description="Piper voice of the voice gateway (voice_gateway/models.yml).")
    voice_enabled: bool = Field(default=True, description="Start the voice gateway with `accueil run` when its models are installed.")
    sip_host: str = Field(default="127.0.0.1", description="Address the voice gateway's SIP endpoint binds to.")
    sip_port: int = Field(default=5060, description="SIP port (UDP and TCP) of the voice gateway.")
    sip_allowed_peers: list[str] = Field(
        default=["127.0.0.1"],
        description="Addresses or networks (CIDR) allowed to call the gateway: the PBX or SIP trunk (JSON list; [] allows every peer).",
    )
    voice_ws_port: int = Field(
        default=8090, description="Port of the WebSocket audio calls (ws://PUBLIC_HOST:PORT/call) and of /health (counts only)."
    )
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
    voice_max_web_calls: int = Field(
        default=4,
        ge=1,
        description="Simultaneous WebSocket calls (the widget's « Appeler ») each voice gateway process takes; "
        "beyond, the call is refused politely (close code 1013) and the widget says the lines are busy.",
    )
    voice_max_call_seconds: float = Field(
        default=900.0, gt=0, description="Longest call (SIP or WebSocket), in seconds: then a goodbye and the gateway hangs up."
    )
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
    purge_daily: bool = Field(
        default=True, description="`accueil run` itself purges every day at PURGE_TIME (and at start if the last purge is over a day old)."
    )
    purge_time: dt.time = Field(default=dt.time(3, 30), description="Local time (HH:MM) of the daily purge run by `accueil run`.")
    purge_vacuum_full: bool = Field(
        default=False,
        description="On PostgreSQL, VACUUM FULL the purged tables (rewritten: no deleted byte left, but locked meanwhile) "
        "instead of a plain VACUUM.",
    )
    studio_port: int = Field(default=8081, description="Port of the editors' studio (web application).")
    studio_secret_key: Optional[str] = Field(
        default=None, description="Key signing the studio's session cookies; default: a random key kept in VAR_DIR/studio_secret."
    )
    studio_session_minutes: int = Field(default=480, ge=5, description="Minutes a studio login stays valid.")
    studio_password_memory_kib: int = Field(
        default=65536,
        ge=64,
        description="Memory of the argon2id hash of a studio password, in KiB; with 3 passes, 64 MiB is RFC 9106's "
        "recommended setting. A password hashed with other settings is hashed again at its next login.",
    )
    studio_password_passes: int = Field(default=3, ge=1, description="Passes of the argon2id hash of a studio password.")
    studio_https: bool = Field(
        default=False,
        description="The studio is reached over HTTPS (a TLS reverse proxy in front): its session cookie is marked Secure "
        "and pages carry HSTS. Set it from the proxy's configuration, not from request headers.",
    )
    metrics_token: Optional[str] = Field(
        default=None,
        description="Token Prometheus must send (Authorization: Bearer) to read the studio's /metrics; "
        "default: a random one kept in VAR_DIR/metrics_token.",
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
        return f"http://{connect_host(self.public_host)}:{self.web_port}"

    @property
    def studio_url(self) -> str:
        return f"http://{connect_host(self.host)}:{self.studio_port}"

    @property
    def conversations_db_url(self) -> str:
        """Where Rasa keeps the conversations (its SQL tracker store), read by the studio."""
        return self.tracker_db_url or f"sqlite:///{self.var_dir / 'conversations.db'}"

    @property
    def voice_url(self) -> str:
        return self.public_voice_url or self.voice_ws_url

    @property
    def voice_ws_url(self) -> str:
        """The call WebSocket where the gateway process listens, reached directly (tests, benchmark, readiness)."""
        return f"ws://{connect_host(self.public_host)}:{self.voice_ws_port}/call"

    def voice_line(self, index: int) -> "Settings":
        """The settings of voice gateway process `index`: its own SIP and WebSocket ports."""
        return self.copy(update={"sip_port": self.sip_port + 2 * index, "voice_ws_port": self.voice_ws_port + index})

    @property
    def sip_ports(self) -> list[int]:
        return [self.voice_line(i).sip_port for i in range(self.voice_processes)]

    @property
    def rasa_url(self) -> str:
        """Rasa's web channels as browsers reach them (the public door)."""
        return self.public_rasa_url or f"http://{connect_host(self.public_host)}:{self.public_rasa_port}"

    @property
    def rasa_api_url(self) -> str:
        """The Rasa servers on the private bind, where their API and the voice webhook answer (any replica that is up)."""
        return f"http://{connect_host(self.host)}:{self.rasa_port}"

    def rasa_replica_url(self, replica: int) -> str:
        """Rasa server `replica`'s own address on the private bind: that replica and no other answers there."""
        return f"http://{connect_host(self.host)}:{self.rasa_replica_port + replica}"

    @property
    def rasa_replica_urls(self) -> list[str]:
        return [self.rasa_replica_url(i) for i in range(self.rasa_replicas)]

    @property
    def allowed_origins(self) -> list[str]:
        """Origins allowed to call Rasa from a browser: the configured ones, the demo page's, and the public site
        of PUBLIC_RASA_URL and PUBLIC_VOICE_URL (the hospital's reverse proxy, which serves the demo page too)."""
        demo = [self.web_url, f"http://localhost:{self.web_port}"]
        public = []
        for url in (self.public_rasa_url, self.public_voice_url):
            parts = urlsplit(url or "")
            if parts.scheme and parts.netloc:
                scheme = {"ws": "http", "wss": "https"}.get(parts.scheme, parts.scheme)
                public.append(f"{scheme}://{parts.netloc}")
        return list(dict.fromkeys([*self.cors_origins, *demo, *public]))

    @property
    def action_endpoint_url(self) -> str:
        return f"http://{connect_host(self.host)}:{self.actions_port}/webhook"

    def rasa_environment(self) -> dict[str, str]:
        """Environment for every Rasa process Accueil starts (telemetry always off)."""
        env = dict(os.environ)
        env.update(
            RASA_TELEMETRY_ENABLED="false",
            ACCUEIL_DB_URL=self.db_url,
            ACCUEIL_ACTION_ENDPOINT_URL=self.action_endpoint_url,
            ACCUEIL_MAX_MESSAGE_LENGTH=str(self.max_message_length),
            ACCUEIL_MAX_REQUEST_BYTES=str(self.max_request_bytes),
            ACCUEIL_RATE_LIMIT_SENDER=str(self.rate_limit_sender),
            ACCUEIL_RATE_LIMIT_ADDRESS=str(self.rate_limit_address),
            ACCUEIL_TRUSTED_PROXIES=json.dumps(self.trusted_proxies),
            TF_CPP_MIN_LOG_LEVEL="2",
            SQLALCHEMY_SILENCE_UBER_WARNING="1",
            PROMETHEUS_MULTIPROC_DIR=str(self.metrics_dir),
        )
        if self.clock is not None:
            env["ACCUEIL_CLOCK"] = self.clock.isoformat()
        if self.switchboard_phone:
            env["ACCUEIL_SWITCHBOARD_PHONE"] = self.switchboard_phone
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


def connect_host(host: str) -> str:
    """The address to connect to a server bound on `host`: loopback for a wildcard bind, brackets for IPv6."""
    if host in ("", "0.0.0.0"):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
