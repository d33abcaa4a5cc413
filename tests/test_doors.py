"""Separate doors: the real Rasa server (without a model: its channels and API answer all the same) and the real
web server, on their public and private binds, behind a real nginx with TLS rendered from deploy/nginx/accueil.conf.

Patients reach the web channels and the widget; Rasa's API, the voice webhook, the studio's and the action
server's paths answer neither on the public door nor through the proxy.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import pytest
import requests
from hypothesis import HealthCheck, given, settings as hypothesis_settings, strategies as st
from urllib3.util import parse_url

from accueil.public_door import PUBLIC_PATHS, split_arguments
from accueil.reverse_proxy import render_nginx
from accueil.servers import rasa_server, running, web_server
from core.settings import Settings
from tests.conftest import free_port
from tests.nginx_proxy import running_nginx

TOKEN = "-" + secrets.token_urlsafe(18)

# Rasa's API and the other private paths, as a client would try them on the public door.
PRIVATE_PATHS = [
    ("GET", "/"),
    ("GET", "/version"),
    ("GET", "/status"),
    ("OPTIONS", "/status"),  # a CORS preflight: refused before the CORS middleware could answer it
    ("GET", "/domain"),
    ("GET", "/conversations/x/tracker"),
    ("POST", "/conversations/x/tracker/events"),
    ("POST", "/conversations/x/messages"),
    ("POST", "/conversations/x/execute"),
    ("POST", "/conversations/x/trigger_intent"),
    ("GET", "/conversations/x/story"),
    ("POST", "/model/parse"),
    ("PUT", "/model"),
    ("DELETE", "/model"),
    ("POST", "/model/train"),
    ("GET", "/webhooks/voice/"),
    ("POST", "/webhooks/voice/webhook"),
    ("GET", "/webhooks/socketio/"),
    ("GET", "/webhook"),  # the action server's
    ("GET", "/metrics"),  # the studio's
    ("GET", "/health"),
]


@pytest.fixture(scope="module")
def doors(tmp_path_factory) -> Settings:
    """Rasa and the web server as `accueil run` starts them, with the public addresses of a proxy on `proxy_port`."""
    var = tmp_path_factory.mktemp("doors")
    proxy_port = free_port()
    settings = Settings(
        var_dir=var,
        db_url=f"sqlite:///{var / 'kb.db'}",
        rasa_port=free_port(), rasa_replica_port=free_port(),
        public_rasa_port=free_port(),
        actions_port=free_port(),
        web_port=free_port(),
        rasa_api_token=TOKEN,
        public_rasa_url=f"https://127.0.0.1:{proxy_port}",
        public_voice_url=f"wss://127.0.0.1:{proxy_port}/call",
    )
    servers = [rasa_server(settings, var / "no-model.tar.gz", settings.log_dir), web_server(settings, settings.log_dir)]
    with running(servers, timeout=180):
        yield settings


def public(settings: Settings) -> str:
    return f"http://127.0.0.1:{settings.public_rasa_port}"


@pytest.mark.slow
def test_the_public_door_serves_rasas_web_channels(doors: Settings) -> None:
    assert requests.get(f"{public(doors)}/webhooks/rest/", timeout=10).json() == {"status": "ok"}
    reply = requests.post(f"{public(doors)}/webhooks/rest/webhook", json={"sender": "a", "message": "bonjour"}, timeout=10)
    assert reply.status_code == 200 and reply.json() == []  # no model: nobody answers, but the channel took it
    handshake = requests.get(f"{public(doors)}/socket.io/", params={"EIO": "4", "transport": "polling"}, timeout=10)
    assert handshake.status_code == 200 and '"sid"' in handshake.text


@pytest.mark.slow
@pytest.mark.parametrize(("method", "path"), PRIVATE_PATHS)
def test_rasas_api_does_not_answer_on_the_public_door_even_with_its_token(doors: Settings, method: str, path: str) -> None:
    reply = requests.request(method, f"{public(doors)}{path}", params={"token": TOKEN}, json={}, timeout=10)
    assert reply.status_code == 404, reply.text


@pytest.mark.slow
def test_the_private_door_serves_the_api_with_its_token(doors: Settings) -> None:
    status = f"{doors.rasa_api_url}/status"
    assert requests.get(status, params={"token": TOKEN}, timeout=10).status_code == 409  # let in: no model loaded
    assert requests.get(status, timeout=10).status_code == 401
    tracker = f"{doors.rasa_api_url}/conversations/x/tracker"
    assert requests.get(tracker, params={"token": TOKEN}, timeout=10).status_code == 409
    assert requests.get(tracker, timeout=10).status_code == 401


@pytest.mark.slow
@hypothesis_settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E, blacklist_characters="?#"), max_size=40))
def test_no_path_but_the_channels_answers_on_the_public_door(doors: Settings, path: str) -> None:
    """Whatever a client writes (`//status`, `/webhooks/rest/../../status`, percent-escapes), only the channels' paths pass."""
    url = f"{public(doors)}/{path}"
    try:
        reply = requests.get(url, params={"token": TOKEN}, timeout=10, allow_redirects=False)
    except requests.exceptions.InvalidURL:
        return
    sent = parse_url(requests.Request("GET", url).prepare().url).path  # as urllib3 sends it (dot segments removed)
    if sent not in PUBLIC_PATHS:
        assert reply.status_code in (400, 404), (sent, reply.status_code, reply.text[:200])


def test_the_public_arguments_go_together() -> None:
    assert split_arguments(["run", "--public-interface", "0.0.0.0", "--public-port=5006", "--port", "5005"]) == (
        ["run", "--port", "5005"],
        ("0.0.0.0", 5006),
    )
    assert split_arguments(["run", "--port", "5005"]) == (["run", "--port", "5005"], None)
    with pytest.raises(SystemExit):
        split_arguments(["run", "--public-port", "5006"])


def test_the_template_leaves_no_placeholder_and_refuses_values_that_would_break_it() -> None:
    settings = Settings(public_host="0.0.0.0", voice_processes=3)
    rendered = render_nginx(settings, "assistant.ch-valmont.fr", "/etc/ssl/a.pem", "/etc/ssl/a.key")
    assert "{{" not in rendered
    assert [f"server 127.0.0.1:{settings.voice_ws_port + i};" in rendered for i in range(4)] == [True, True, True, False]
    with pytest.raises(ValueError):
        render_nginx(settings, "a.fr; include /etc/passwd", "/etc/ssl/a.pem", "/etc/ssl/a.key")


@pytest.fixture(scope="module")
def proxy(doors: Settings, tmp_path_factory):
    https_port = int(doors.public_rasa_url.rsplit(":", 1)[1])
    with running_nginx(doors, tmp_path_factory.mktemp("nginx"), https_port, free_port()) as running_proxy:
        yield running_proxy


@pytest.mark.slow
def test_behind_nginx_the_widget_loads_over_https_with_hsts_and_speaks_wss(proxy) -> None:
    page = requests.get(f"{proxy.https_url}/", verify=proxy.certificate, timeout=10)
    assert page.status_code == 200 and "accueil-widget.js" in page.text
    assert page.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert "Server" not in page.headers or "/" not in page.headers["Server"]  # no version told
    assert f"connect-src 'self' {proxy.https_url} wss://127.0.0.1:" in page.headers["Content-Security-Policy"]
    script = requests.get(f"{proxy.https_url}/widget/accueil-widget.js", verify=proxy.certificate, timeout=10)
    assert script.status_code == 200 and len(script.content) > 1000
    config = requests.get(f"{proxy.https_url}/widget/config.json", verify=proxy.certificate, timeout=10).json()
    assert config["voice_url"] == f"wss://{proxy.https_url.split('://')[1]}/call"
    redirect = requests.get(f"{proxy.http_url}/infos-pratiques.html", allow_redirects=False, timeout=10)
    assert redirect.status_code == 301 and redirect.headers["Location"].startswith("https://")


@pytest.mark.slow
def test_behind_nginx_the_web_channels_pass(proxy) -> None:
    reply = requests.post(
        f"{proxy.https_url}/webhooks/rest/webhook", json={"sender": "b", "message": "bonjour"}, verify=proxy.certificate, timeout=10
    )
    assert reply.status_code == 200 and reply.json() == []
    assert "Strict-Transport-Security" in reply.headers
    handshake = requests.get(f"{proxy.https_url}/socket.io/", params={"EIO": "4", "transport": "polling"}, verify=proxy.certificate, timeout=10)
    assert handshake.status_code == 200 and '"sid"' in handshake.text
    big = requests.post(f"{proxy.https_url}/webhooks/rest/webhook", data=b"x" * 20_000, verify=proxy.certificate, timeout=10)
    assert big.status_code == 413


@pytest.mark.slow
@pytest.mark.parametrize(("method", "path"), PRIVATE_PATHS)
def test_behind_nginx_no_private_path_reaches_rasa(proxy, method: str, path: str) -> None:
    reply = requests.request(method, f"{proxy.https_url}{path}", params={"token": TOKEN}, json={}, verify=proxy.certificate, timeout=10)
    assert "Strict-Transport-Security" in reply.headers
    if (method, path) in (("GET", "/"), ("GET", "/health")):  # the demo site's page, the web server's readiness
        assert "Rasa" not in reply.text
        return
    assert reply.status_code in (403, 404), (path, reply.status_code)
    try:
        body = reply.json()
    except json.JSONDecodeError:
        body = None
    assert not (isinstance(body, dict) and ("sender_id" in body or "model_file" in body or "events" in body)), body


@pytest.mark.slow
def test_nginx_logged_no_error(proxy, doors: Settings) -> None:
    requests.get(f"{proxy.https_url}/", verify=proxy.certificate, timeout=10)
    errors = [line for line in Path(proxy.error_log).read_text().splitlines() if "[emerg]" in line or "[crit]" in line]
    assert errors == []
