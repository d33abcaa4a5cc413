"""Secrets generated once on first use and kept in a file readable by this user only (mode 600)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from core.settings import Settings


def generated_secret(path: Path) -> str:
    """The secret kept in `path`, generated at random the first time (several processes may ask at once)."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process wrote it meanwhile
            pass
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(48))
    return Path(path).read_text().strip()


def voice_webhook_secret(settings: "Settings") -> str:
    """The secret the voice gateway sends to Rasa's voice webhook (and only it knows): ACCUEIL_VOICE_WEBHOOK_SECRET,
    else a random one kept in VAR_DIR/voice_webhook_secret. `accueil run` gives the same one to both processes."""
    return settings.voice_webhook_secret or generated_secret(settings.var_dir / "voice_webhook_secret")


def metrics_token(settings: "Settings") -> str:
    """The bearer token of the studio's /metrics: ACCUEIL_METRICS_TOKEN, else a random one kept in
    VAR_DIR/metrics_token, the file Prometheus's `authorization.credentials_file` points at."""
    return settings.metrics_token or generated_secret(settings.var_dir / "metrics_token")
