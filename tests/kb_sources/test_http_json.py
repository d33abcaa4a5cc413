"""HttpJsonSource against a real local HTTP server: content, conditional requests, retries, timeouts, errors."""

from __future__ import annotations

import functools
import json
import time
from pathlib import Path

import pytest

from kb_sync.errors import ContentInvalid
from kb_sync.sources.http_json import HttpJsonSource
from tests.kb_sources.conftest import content_json

# The test server speaks plain http:// on 127.0.0.1, which the source accepts only when told to (test_http_safety.py).
Loopback = functools.partial(HttpJsonSource, allow_http=True)


def document(content) -> dict:
    return content.dict()


def read_errors(source: HttpJsonSource) -> ContentInvalid:
    with pytest.raises(ContentInvalid) as raised:
        source.read()
    return raised.value


def test_round_trip_equals_folder_content(json_server, demo_content, tmp_path: Path) -> None:
    json_server.body = content_json(document(demo_content))
    source = Loopback(json_server.url, tmp_path / "cache")
    assert source.description == f"URL {json_server.url}"
    assert source.read() == demo_content
    assert source.not_modified is False
    assert json_server.requests[0].get("If-None-Match") is None


def test_second_read_is_conditional_and_uses_the_cache(json_server, demo_content, tmp_path: Path) -> None:
    json_server.body = content_json(document(demo_content))
    Loopback(json_server.url, tmp_path / "cache").read()
    source = Loopback(json_server.url, tmp_path / "cache")  # a later run: only the cache folder remains
    assert source.read() == demo_content
    assert json_server.requests[-1]["If-None-Match"] == json_server.etag
    assert source.not_modified is True

    data = document(demo_content)
    data["organisation"]["short_name"] = "CHV"
    json_server.body = content_json(data)
    changed = source.read()
    assert source.not_modified is False and changed.organisation.short_name == "CHV"
    assert json_server.requests[-1]["If-None-Match"] != json_server.etag


def test_if_modified_since_without_etag(json_server, demo_content, tmp_path: Path) -> None:
    json_server.use_etag = False
    json_server.body = content_json(document(demo_content))
    source = Loopback(json_server.url, tmp_path / "cache")
    source.read()
    assert source.read() == demo_content and source.not_modified
    headers = json_server.requests[-1]
    assert headers["If-Modified-Since"] == "Mon, 02 Nov 2026 08:00:00 GMT" and "If-None-Match" not in headers


def test_retries_after_two_503(json_server, demo_content, tmp_path: Path) -> None:
    json_server.body = content_json(document(demo_content))
    json_server.failures = 2
    assert Loopback(json_server.url, tmp_path / "cache", retries=3).read() == demo_content
    assert len(json_server.requests) == 3


def test_503_until_retries_run_out(json_server, tmp_path: Path) -> None:
    json_server.failures = 10
    errors = read_errors(Loopback(json_server.url, tmp_path / "cache", retries=1))
    assert "503" in str(errors) and "après 2 essais" in str(errors)
    assert len(json_server.requests) == 2


def test_timeout_is_reported_quickly_in_french(json_server, tmp_path: Path) -> None:
    json_server.hang = 30
    started = time.monotonic()
    errors = read_errors(Loopback(json_server.url, tmp_path / "cache", timeout=0.5, retries=1))
    assert time.monotonic() - started < 5
    assert "serveur injoignable (pas de réponse en 0.5 s) après 2 essais" in str(errors)
    assert errors.errors[0].source == json_server.url


def test_unreachable_server(tmp_path: Path, json_server) -> None:
    url = json_server.url
    json_server.stop()
    errors = read_errors(Loopback(url, tmp_path / "cache", timeout=0.5, retries=1))
    assert "serveur injoignable (connexion impossible) après 2 essais" in str(errors)


def test_http_error_status(json_server, tmp_path: Path) -> None:
    json_server.status = 404
    errors = read_errors(Loopback(json_server.url, tmp_path / "cache"))
    assert "le serveur a répondu 404 Not Found" in str(errors)
    assert len(json_server.requests) == 1  # not retried


def test_invalid_json_gives_line_and_column(json_server, tmp_path: Path) -> None:
    json_server.body = b'{\n  "organisation": {},\n  "places": [}\n}'
    (error,) = read_errors(Loopback(json_server.url, tmp_path / "cache")).errors
    assert (error.source, error.line) == (json_server.url, 3)
    assert error.message.startswith("JSON invalide : valeur attendue (ligne 3, colonne 14)")


def test_wrong_structure(json_server, demo_content, tmp_path: Path) -> None:
    json_server.body = b"[]"
    assert "le document doit être un objet JSON" in str(read_errors(Loopback(json_server.url, tmp_path / "a")))
    data = document(demo_content)
    del data["wards"]
    data["places"], data["extra"] = {}, 1
    json_server.body = content_json(data)
    errors = read_errors(Loopback(json_server.url, tmp_path / "b")).errors
    assert {(e.field, e.message.split(" (")[0]) for e in errors} == {
        ("extra", "clé inconnue"),
        ("places", "une liste […] est attendue"),
        ("wards", "liste manquante"),
    }


def test_validation_error_names_the_json_path(json_server, demo_content, tmp_path: Path) -> None:
    data = json.loads(content_json(document(demo_content)))
    data["places"][3]["hours"][0]["closes"] = "25:00"
    data["articles"][0]["related"] = ["inexistant"]
    json_server.body = json.dumps(data).encode()
    source = Loopback(json_server.url, tmp_path / "cache")
    errors = read_errors(source)
    assert f"{json_server.url}, champ « places[3].hours[0].closes » : heure « 25:00 » invalide" in str(errors)
    assert any(e.field == "related" and "inexistant" in e.message for e in errors.errors)
    assert not any((tmp_path / "cache").glob("*.json"))  # an invalid body is never cached
