"""Rasa's HTTP API as Accueil uses it: the token, the loaded model (`GET /status`) and loading a model (`PUT /model`).

`accueil run` starts Rasa with its API open and this token (given through the environment, never on the command
line: `accueil.rasa_launch`). Unless ACCUEIL_RASA_API_TOKEN is set, the token is generated at each start and kept in VAR_DIR/rasa_api_token (mode 600), where `accueil deploy`,
`accueil rollback` and the studio, which run in other processes, read it.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import requests

from core.settings import Settings

STATUS_TIMEOUT = 5.0
# Loading a model (TensorFlow, spaCy) takes 20 to 40 s on two cores; the old model answers meanwhile.
LOAD_TIMEOUT = 600.0


class RasaApiError(RuntimeError):
    """Rasa answered with an error (the message is French)."""


class RasaNotRunning(RasaApiError):
    """Nothing answers at the Rasa server's address."""


def new_api_token(settings: Settings) -> str:
    """A fresh token written to VAR_DIR/rasa_api_token (readable by this user only); for `accueil run`."""
    token = secrets.token_hex(24)  # [0-9a-f] only: nothing a command line or a URL could misread
    path = settings.rasa_api_token_file
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(token + "\n")
    os.replace(temporary, path)
    return token


def api_token(settings: Settings) -> str | None:
    """The configured token, else the one the running `accueil run` generated, else None."""
    if settings.rasa_api_token:
        return settings.rasa_api_token
    try:
        return settings.rasa_api_token_file.read_text(encoding="utf-8").strip() or None
    except FileNotFoundError:
        return None


def _request(settings: Settings, method: str, path: str, timeout: float, **kwargs) -> requests.Response:
    token = api_token(settings)
    if token is None:
        raise RasaNotRunning(
            "Aucun jeton de l'API de Rasa : ni ACCUEIL_RASA_API_TOKEN ni le fichier écrit par « accueil run » "
            f"({settings.rasa_api_token_file})."
        )
    url = f"{settings.rasa_api_url}{path}"
    try:
        response = requests.request(method, url, params={"token": token}, timeout=timeout, **kwargs)
    except requests.ConnectionError as exc:
        raise RasaNotRunning(f"Le serveur Rasa ne répond pas à {settings.rasa_api_url}.") from exc
    except requests.Timeout as exc:
        raise RasaApiError(f"Le serveur Rasa n'a pas répondu à temps ({timeout:.0f} s) à {method} {path}.") from exc
    if response.status_code in (401, 403):
        raise RasaApiError(
            f"Le serveur Rasa refuse le jeton de son API (HTTP {response.status_code}) : il a été démarré avec un autre jeton."
        )
    if response.status_code >= 400:
        try:
            detail = response.json().get("message", "")
        except ValueError:
            detail = response.text[:300]
        raise RasaApiError(f"Le serveur Rasa a répondu HTTP {response.status_code} à {method} {path} : {detail}")
    return response


def status(settings: Settings) -> dict:
    """Rasa's `GET /status`: `model_file` (the loaded model), `model_id`, `num_active_training_jobs`."""
    return _request(settings, "GET", "/status", STATUS_TIMEOUT).json()


def loaded_model(settings: Settings) -> str | None:
    """The file name of the model the running Rasa server serves, or None when it does not answer."""
    try:
        model_file = status(settings).get("model_file")
    except RasaApiError:
        return None
    return Path(model_file).name if model_file else None


def load_model(settings: Settings, model: Path) -> None:
    """Loads `model` into the running Rasa server; the conversations stay in its tracker store."""
    _request(settings, "PUT", "/model", LOAD_TIMEOUT, json={"model_file": str(Path(model).resolve())})
