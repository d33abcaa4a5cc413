"""The knowledge base from a URL is fetched with care: https only, certificates checked, no redirect followed,
a size cap and a time limit; each refusal is a French error naming what to change. Real local servers."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from core.settings import PROJECT_ROOT, Settings
from kb_sync.errors import ContentInvalid
from kb_sync.sources import configured_source
from kb_sync.sources.http_json import MB, HttpJsonSource
from tests.kb_sources.conftest import content_json

BIG = b'{"organisation": {"name": "' + b"x" * (3 * MB) + b'"}}'


def refusal(source: HttpJsonSource) -> str:
    with pytest.raises(ContentInvalid) as raised:
        source.read()
    (error,) = raised.value.errors
    assert error.source == source.url
    return error.message


def test_plain_http_is_refused_unless_allowed(json_server, demo_content, tmp_path: Path) -> None:
    json_server.body = content_json(demo_content.dict())
    message = refusal(HttpJsonSource(json_server.url, tmp_path / "cache"))
    assert message.startswith("adresse en http:// refusée")
    assert "ACCUEIL_KB_HTTP_ALLOW_HTTP=true" in message and "https://" in message
    assert json_server.requests == []  # not even asked

    settings = Settings(kb_source=json_server.url, var_dir=tmp_path, kb_http_allow_http=True)
    assert configured_source(settings).read() == demo_content
    assert "ACCUEIL_KB_HTTP_ALLOW_HTTP" in refusal(configured_source(settings.copy(update={"kb_http_allow_http": False})))


def test_https_with_the_hospitals_own_ca_and_an_unknown_certificate(tls_json_server, demo_content, tmp_path: Path) -> None:
    tls_json_server.body = content_json(demo_content.dict())
    settings = Settings(kb_source=tls_json_server.url, var_dir=tmp_path, kb_http_ca_file=tls_json_server.ca_file)
    assert configured_source(settings).read() == demo_content

    message = refusal(HttpJsonSource(tls_json_server.url, tmp_path / "other", retries=0))
    assert message.startswith("connexion https refusée : certificat du serveur non reconnu")


def test_redirects_are_not_followed(tls_json_server, json_server, demo_content, tmp_path: Path) -> None:
    json_server.body = content_json(demo_content.dict())
    tls_json_server.redirect_to = json_server.url  # to plain http, on another port
    source = HttpJsonSource(tls_json_server.url, tmp_path / "cache", ca_file=tls_json_server.ca_file, allow_http=True)
    message = refusal(source)
    assert message.startswith(f"le serveur redirige (302) vers « {json_server.url} » : les redirections ne sont pas suivies")
    assert "ACCUEIL_KB_SOURCE" in message
    assert json_server.requests == [] and len(tls_json_server.requests) == 1

    tls_json_server.redirect_to = tls_json_server.url + "?v=2"  # even to the same https server
    assert "les redirections ne sont pas suivies" in refusal(source)


@pytest.mark.parametrize("send_length", [True, False], ids=["content-length", "streamed"])
def test_a_document_over_the_size_cap_is_abandoned(json_server, tmp_path: Path, send_length: bool) -> None:
    json_server.body, json_server.send_length = BIG, send_length
    source = HttpJsonSource(json_server.url, tmp_path / "cache", allow_http=True, max_bytes=1 * MB)
    assert refusal(source) == "document trop volumineux : plus de 1 Mo (limite ACCUEIL_KB_HTTP_MAX_MB)"
    assert not any((tmp_path / "cache").glob("*.json"))
    # Under the cap it is read (and found wanting for other reasons: the error is about the content, not the size).
    assert "trop volumineux" not in str(
        pytest.raises(ContentInvalid, HttpJsonSource(json_server.url, tmp_path / "c", allow_http=True, max_bytes=4 * MB).read).value
    )


def test_a_server_that_trickles_is_abandoned_in_bounded_time(demo_content, tmp_path: Path) -> None:
    body = tmp_path / "kb.json"
    body.write_bytes(content_json(demo_content.dict()))
    # Each piece well within the read timeout (forty times it, for a busy machine), the whole far beyond six times it.
    server = subprocess.Popen(
        [sys.executable, "-m", "tests.kb_sources.trickle_server", str(body), "0.0125"],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        url = f"http://127.0.0.1:{int(server.stdout.readline())}/kb.json"
        started = time.monotonic()
        message = refusal(HttpJsonSource(url, tmp_path / "cache", timeout=0.5, allow_http=True))
        assert message == "téléchargement trop lent : inachevé après 3 s"
        assert time.monotonic() - started < 6
    finally:
        server.kill()
        server.wait()


def test_a_server_that_stops_sending_mid_body_is_abandoned(json_server, demo_content, tmp_path: Path) -> None:
    json_server.body = content_json(demo_content.dict())
    json_server.drip = 30  # the headers, then silence
    started = time.monotonic()
    message = refusal(HttpJsonSource(json_server.url, tmp_path / "cache", timeout=0.25, allow_http=True))
    assert message == "réponse interrompue (plus rien reçu en 0.25 s)"
    assert time.monotonic() - started < 4
