"""Rasa's HTTP API as Accueil uses it: the token, the loaded model (`GET /status`) and loading a model (`PUT /model`)
into each Rasa server (RASA_REPLICAS), one after the other.

`accueil run` starts Rasa with its API open and this token (given through the environment, never on the command
line: `accueil.rasa_launch`). Unless ACCUEIL_RASA_API_TOKEN is set, the token is generated at each start and kept in VAR_DIR/rasa_api_token (mode 600), where `accueil deploy`,
`accueil rollback` and the studio, which run in other processes, read it.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import requests

from accueil.public_door import DOORS_PATH
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


def _request(
    settings: Settings, method: str, path: str, timeout: float, base: str | None = None, **kwargs
) -> requests.Response:
    """A call to Rasa's API at `base` (default: the address the replicas share, any of them answers)."""
    token = api_token(settings)
    if token is None:
        raise RasaNotRunning(
            "Aucun jeton de l'API de Rasa : ni ACCUEIL_RASA_API_TOKEN ni le fichier écrit par « accueil run » "
            f"({settings.rasa_api_token_file})."
        )
    base = base or settings.rasa_api_url
    params = {"token": token, **kwargs.pop("params", {})}
    try:
        response = requests.request(method, f"{base}{path}", params=params, timeout=timeout, **kwargs)
    except requests.ConnectionError as exc:
        raise RasaNotRunning(f"Le serveur Rasa ne répond pas à {base}.") from exc
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
    """Loads `model` into every running Rasa server, one after the other; the conversations stay in the tracker store.

    While more than one serves, each is drained first (accueil/public_door.py: new connections go to the others)
    and opened again once loaded, so that patients never wait for a model to load. A replica that does not answer
    (stopped, restarting) is left: it serves the model in production when it starts. Should one refuse the model,
    those already loaded go back to the model they served, and the error is raised."""
    running: list[tuple[str, str | None]] = []  # (replica's address, the model file it serves)
    for base in settings.rasa_replica_urls:
        try:
            running.append((base, _request(settings, "GET", "/status", STATUS_TIMEOUT, base=base).json().get("model_file")))
        except RasaNotRunning:
            continue
    if not running:
        raise RasaNotRunning(f"Le serveur Rasa ne répond pas à {' ni à '.join(settings.rasa_replica_urls)}.")
    loaded: list[tuple[str, str | None]] = []
    for base, previous in running:
        try:
            _load_into(settings, base, Path(model).resolve(), drain=len(running) > 1)
        except RasaApiError:
            for done, before in loaded:  # the replicas serve one model, the previous one
                if before:
                    try:
                        _load_into(settings, done, Path(before), drain=True)
                    except RasaApiError:
                        pass
            raise
        loaded.append((base, previous))


def _load_into(settings: Settings, base: str, model: Path, drain: bool) -> None:
    if drain:
        _request(settings, "POST", DOORS_PATH, STATUS_TIMEOUT, base=base, params={"action": "close", "seconds": LOAD_TIMEOUT})
    try:
        _request(settings, "PUT", "/model", LOAD_TIMEOUT, base=base, json={"model_file": str(model)})
    finally:
        if drain:
            _request(settings, "POST", DOORS_PATH, STATUS_TIMEOUT, base=base, params={"action": "open"})
