"""Fixtures for the spreadsheet and HTTP sources: the demo content, and a real JSON server on 127.0.0.1."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import ssl
import threading
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from core.settings import PROJECT_ROOT
from kb_sync.content import KnowledgeBaseContent
from kb_sync.sources import FolderSource
from tests.certificates import self_signed_certificate


@pytest.fixture(scope="session")
def demo_content() -> KnowledgeBaseContent:
    return FolderSource(PROJECT_ROOT / "kb_content" / "valmont").read()


def content_json(document: dict) -> bytes:
    """JSON as a CMS would serve it: times as HH:MM, dates ISO."""

    def encode(value):
        if isinstance(value, dt.time):
            return f"{value:%H:%M}"
        if isinstance(value, dt.date):
            return value.isoformat()
        raise TypeError(value)

    return json.dumps(document, default=encode, ensure_ascii=False, indent=2).encode("utf-8")


class JsonServer:
    """Serves one body with ETag/Last-Modified; can fail with 503 a number of times, answer a status, or hang;
    can redirect (`redirect_to`), send its body without Content-Length or slowly (`drip`), and speak TLS (`tls`: certificate and key files)."""

    def __init__(self, tls: tuple[str, str] | None = None) -> None:
        self.body = b"{}"
        self.redirect_to: str | None = None
        self.send_length = True
        self.drip = 0.0  # seconds between two 16-byte pieces of the body (a server that trickles)
        self.use_etag = True
        self.last_modified = dt.datetime(2026, 11, 2, 8, 0, tzinfo=dt.timezone.utc)
        self.failures = 0
        self.status = 200
        self.hang = 0.0
        self.release = threading.Event()
        self.requests: list[dict[str, str]] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        scheme = "http"
        if tls is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)
            self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
            scheme = "https"
        self.url = f"{scheme}://127.0.0.1:{self._server.server_address[1]}/kb.json"

    @property
    def etag(self) -> str:
        return '"' + hashlib.sha256(self.body).hexdigest()[:16] + '"'

    def start(self) -> None:
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def stop(self) -> None:
        self.release.set()
        self._server.shutdown()
        self._server.server_close()


def _handler(state: JsonServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.requests.append(dict(self.headers))
            if state.hang:
                state.release.wait(state.hang)
            try:
                self._answer()
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (timeout test)

        def _answer(self) -> None:
            if state.failures > 0:
                state.failures -= 1
                return self._send(503, b"")
            if state.status != 200:
                return self._send(state.status, b"erreur")
            if state.redirect_to:
                return self._send(302, b"", {"Location": state.redirect_to})
            validators = {"Last-Modified": format_datetime(state.last_modified, usegmt=True)}
            if state.use_etag:
                validators["ETag"] = state.etag
            if_none_match = self.headers.get("If-None-Match")
            if_modified_since = self.headers.get("If-Modified-Since")
            if state.use_etag and if_none_match:
                unchanged = if_none_match == state.etag
            else:
                unchanged = bool(if_modified_since) and parsedate_to_datetime(if_modified_since) >= state.last_modified
            if unchanged:
                return self._send(304, b"", validators)
            self._send(200, state.body, {"Content-Type": "application/json; charset=utf-8", **validators})

        def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            if status != 304 and state.send_length:
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if status != 304 and state.drip:
                for start in range(0, len(body), 16):
                    if state.release.wait(state.drip):
                        return
                    self.wfile.write(body[start : start + 16])
                    self.wfile.flush()
            elif status != 304:
                self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    return Handler


@pytest.fixture
def json_server(monkeypatch: pytest.MonkeyPatch):
    # No proxy from the environment may see these requests: they stay on 127.0.0.1.
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    server = JsonServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def tls_json_server(json_server, tmp_path_factory):
    """The same server on https://, with a self-signed certificate (`tls_json_server.ca_file`)."""
    certificate = tuple(str(path) for path in self_signed_certificate(tmp_path_factory.mktemp("tls")))
    server = JsonServer(tls=certificate)
    server.ca_file = certificate[0]
    server.start()
    yield server
    server.stop()
