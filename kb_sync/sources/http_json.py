"""HTTP source: the knowledge base as one JSON document, e.g. served by the hospital's intranet CMS.

The document is {"organisation": {...}, "places": [...], "wards": [...], "articles": [...]} with the
YAML folder's field names (articles carry `slug` and `body`). The last valid body is kept in
`cache_dir` with its ETag and Last-Modified, so the next read is conditional: on 304 the copy is read.

What the assistant tells patients comes from this document, so it is fetched with care: https:// only
(plain http:// only when `allow_http` says so, for a test server), certificates checked (`ca_file` for a
hospital's own PKI), redirects never followed (one could lead to another machine or to plain http://: the
editor writes the final address instead), the body streamed and abandoned past `max_bytes`, and the whole
download bounded in time (`timeout` to connect and between two reads, six times that in all).
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter

from kb_sync.content import ArticleIn, KnowledgeBaseContent, OrganisationIn, PlaceIn, WardIn
from kb_sync.errors import ContentError, ContentInvalid
from kb_sync.sources.base import Source
from kb_sync.validation import Located, Validator

_LISTS = {"places": PlaceIn, "wards": WardIn, "articles": ArticleIn}
_JSON_PROBLEMS = {
    "Expecting value": "valeur attendue",
    "Expecting ',' delimiter": "virgule manquante",
    "Expecting ':' delimiter": "« : » manquant",
    "Expecting property name enclosed in double quotes": "nom de clé entre guillemets doubles attendu",
    "Unterminated string starting at": "texte non fermé par un guillemet",
    "Invalid control character at": "caractère de contrôle interdit (retour à la ligne dans un texte ?)",
    "Extra data": "contenu en trop après la fin du document",
}


MB = 1024 * 1024
DEFAULT_MAX_BYTES = 20 * MB
DEFAULT_TIMEOUT = 10.0
_CHUNK = 64 * 1024


class HttpJsonSource(Source):
    def __init__(
        self,
        url: str,
        cache_dir: Path,
        timeout: float = DEFAULT_TIMEOUT,
        retries: int = 3,
        *,
        allow_http: bool = False,
        max_bytes: int = DEFAULT_MAX_BYTES,
        ca_file: Path | None = None,
    ):
        self.url = url
        self.cache = _Cache(Path(cache_dir), url)
        self.timeout = timeout
        self.retries = retries
        self.allow_http = allow_http
        self.max_bytes = max_bytes
        self.ca_file = ca_file
        self._not_modified = False

    @property
    def description(self) -> str:
        return f"URL {self.url}"

    @property
    def not_modified(self) -> bool:
        """Whether the last read got 304: the content is the cached copy, unchanged."""
        return self._not_modified

    def read(self) -> KnowledgeBaseContent:
        self._not_modified = False
        self._check_address()
        cached = self.cache.load()
        with self._get(cached[1] if cached else {}) as response:
            if response.status_code == 304 and cached:
                self._not_modified = True
                return self._parse(cached[0])
            if 300 <= response.status_code < 400:
                target = (response.headers.get("Location") or "?")[:200]
                raise self._invalid(
                    f"le serveur redirige ({response.status_code}) vers « {target} » : les redirections ne sont pas suivies "
                    "(elles pourraient mener vers une autre machine, ou en http://) ; mettez l'adresse finale dans ACCUEIL_KB_SOURCE"
                )
            if not 200 <= response.status_code < 300:
                raise self._invalid(f"le serveur a répondu {response.status_code} {response.reason or ''}".rstrip())
            body = self._download(response)
        content = self._parse(body)
        self.cache.store(body, response.headers.get("ETag"), response.headers.get("Last-Modified"))
        return content

    def _check_address(self) -> None:
        scheme = urlsplit(self.url).scheme.lower()
        if scheme == "http" and not self.allow_http:
            raise self._invalid(
                "adresse en http:// refusée : le contenu circulerait en clair et pourrait être modifié en chemin. "
                "Utilisez une adresse https:// (ou, pour un serveur de test sur cette machine seulement, ACCUEIL_KB_HTTP_ALLOW_HTTP=true)"
            )
        if scheme not in ("http", "https"):
            raise self._invalid("adresse invalide : elle doit commencer par https://")

    def _too_big(self) -> ContentInvalid:
        return self._invalid(f"document trop volumineux : plus de {self.max_bytes / MB:.3g} Mo (limite ACCUEIL_KB_HTTP_MAX_MB)")

    def _download(self, response: requests.Response) -> bytes:
        """The body, read by chunks: abandoned past `max_bytes` or past six times the timeout in all."""
        length = response.headers.get("Content-Length", "")
        if length.isdigit() and int(length) > self.max_bytes:
            raise self._too_big()
        deadline = time.monotonic() + 6 * self.timeout
        chunks, size = [], 0
        try:
            # read1: what has arrived (one read, at most `timeout` long), so a trickling server meets the deadline.
            while chunk := response.raw.read1(_CHUNK, decode_content=True):
                size += len(chunk)
                if size > self.max_bytes:
                    raise self._too_big()
                if time.monotonic() > deadline:
                    raise self._invalid(f"téléchargement trop lent : inachevé après {6 * self.timeout:g} s")
                chunks.append(chunk)
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            timed_out = isinstance(exc, (urllib3.exceptions.TimeoutError, TimeoutError))
            why = f"plus rien reçu en {self.timeout:g} s" if timed_out else exc.__class__.__name__
            raise self._invalid(f"réponse interrompue ({why})") from exc
        return b"".join(chunks)

    def _invalid(self, message: str, line: int | None = None, field: str | None = None) -> ContentInvalid:
        return ContentInvalid([ContentError(self.url, line, field, message)])

    def _get(self, headers: dict[str, str]) -> requests.Response:
        attempts = self.retries + 1
        retry = urllib3.util.Retry(
            total=self.retries, backoff_factor=0.5, status_forcelist=[502, 503, 504], allowed_methods=["GET"]
        )
        with requests.Session() as session:
            adapter = HTTPAdapter(max_retries=retry)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            # No compression asked: a small compressed body cannot then unfold into gigabytes.
            headers = {"Accept": "application/json", "Accept-Encoding": "identity", **headers}
            try:
                # `verify` given here: a session's own would yield to REQUESTS_CA_BUNDLE from the environment.
                verify = str(self.ca_file) if self.ca_file else True
                return session.get(self.url, headers=headers, timeout=self.timeout, allow_redirects=False, stream=True, verify=verify)
            except requests.exceptions.SSLError as exc:
                raise self._invalid(f"connexion https refusée : certificat du serveur non reconnu ou invalide ({_reason(exc)})") from exc
            except requests.exceptions.RetryError as exc:
                raise self._invalid(f"le serveur répond en erreur ({_reason(exc)}) après {attempts} essais") from exc
            except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
                why = f"pas de réponse en {self.timeout:g} s" if _timed_out(exc) else "connexion impossible"
                raise self._invalid(f"serveur injoignable ({why}) après {attempts} essais") from exc
            except requests.exceptions.RequestException as exc:
                raise self._invalid(f"adresse ou requête invalide : {exc}") from exc

    def _parse(self, body: bytes) -> KnowledgeBaseContent:
        try:
            document = json.loads(body.decode("utf-8-sig"))
        except UnicodeDecodeError:
            raise self._invalid("la réponse n'est pas encodée en UTF-8") from None
        except json.JSONDecodeError as exc:
            problem = next((fr for en, fr in _JSON_PROBLEMS.items() if exc.msg.startswith(en)), exc.msg)
            raise self._invalid(f"JSON invalide : {problem} (ligne {exc.lineno}, colonne {exc.colno})", exc.lineno) from None
        if not isinstance(document, dict):
            raise self._invalid('le document doit être un objet JSON {"organisation": …, "places": […], "wards": […], "articles": […]}')
        check = Validator()
        for key in document.keys() - {"organisation", *_LISTS}:
            check.error(self.url, None, key, "clé inconnue (clés permises : organisation, places, wards, articles)")
        organisation = None
        if "organisation" not in document:
            check.error(self.url, None, "organisation", "rubrique manquante")
        else:
            organisation = check.item(OrganisationIn, document["organisation"], self.url, None, "organisation")
        lists = {key: self._items(check, document, key) for key in _LISTS}
        return check.assemble(organisation, lists["places"], lists["wards"], lists["articles"])

    def _items(self, check: Validator, document: dict[str, Any], key: str) -> list[Located]:
        items = document.get(key)
        if not isinstance(items, list):
            check.error(self.url, None, key, "liste manquante" if items is None else "une liste […] est attendue")
            return []
        located = (check.item(_LISTS[key], raw, self.url, None, f"{key}[{i}]") for i, raw in enumerate(items))
        return [item for item in located if item is not None]


class _Cache:
    """The last valid body for one URL with the validators (ETag, Last-Modified) the server gave, in one file."""

    def __init__(self, folder: Path, url: str):
        self.folder = folder
        self.path = folder / f"{hashlib.sha256(url.encode()).hexdigest()[:16]}.json"

    def load(self) -> tuple[bytes, dict[str, str]] | None:
        """(body, conditional request headers), or None when nothing usable is cached."""
        try:
            cached = json.loads(self.path.read_text(encoding="utf-8"))
            body = cached["body"].encode("utf-8")
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None
        headers = {"If-None-Match": cached.get("etag"), "If-Modified-Since": cached.get("last_modified")}
        headers = {name: value for name, value in headers.items() if isinstance(value, str)}
        return (body, headers) if headers else None

    def store(self, body: bytes, etag: str | None, last_modified: str | None) -> None:
        """Written whole then renamed: a crash never leaves a body with another version's ETag."""
        self.folder.mkdir(parents=True, exist_ok=True)
        cached = {"etag": etag, "last_modified": last_modified, "body": body.decode("utf-8-sig")}
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(json.dumps(cached, ensure_ascii=False), encoding="utf-8")
        os.replace(temporary, self.path)


def _timed_out(exc: Exception) -> bool:
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    if isinstance(reason, urllib3.exceptions.NewConnectionError):  # a refused connection, not a slow one
        return False
    return isinstance(exc, requests.exceptions.Timeout) or isinstance(reason, urllib3.exceptions.TimeoutError)


def _reason(exc: requests.exceptions.RetryError) -> str:
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    text = str(reason or exc)
    return text.replace("too many ", "trop de réponses ").replace(" error responses", "")
