"""The web channels (bot/web_channels.py) and the web server (web/server.py), without a model."""

from __future__ import annotations

import asyncio

import pytest
import requests
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

from bot.web_channels import WebCollectingOutput, WebSocketOutput, refuse_too_long
from core.settings import Settings


class FakeSio:
    def __init__(self):
        self.emitted = []

    async def emit(self, event, data=None, room=None, **kwargs):
        assert not kwargs, f"unexpected emit arguments {kwargs}"
        self.emitted.append((event, data, room))


def test_messages_over_the_limit_get_a_polite_refusal_and_never_reach_the_assistant() -> None:
    reached = []

    async def assistant(message: UserMessage) -> None:
        reached.append(message.text)

    handle = refuse_too_long(assistant)
    output = CollectingOutputChannel()
    asyncio.run(handle(UserMessage("é" * 1000, output, "s1")))
    asyncio.run(handle(UserMessage("é" * 1001, output, "s1")))
    assert reached == ["é" * 1000]
    assert output.messages[0]["text"].startswith("Votre message est trop long (1001 caractères)")


def test_socket_messages_name_their_response_and_custom_payloads_are_sent_as_custom() -> None:
    sio = FakeSio()
    output = WebSocketOutput(sio, "bot_uttered")
    question = {"text": "Cette réponse vous a-t-elle aidé ?", "buttons": [{"title": "Oui", "payload": "/affirm"}], "utter_action": "utter_ask_feedback"}
    asyncio.run(output.send_response("s1", question))
    asyncio.run(output.send_response("s1", {"text": "Bonjour", "custom": {"handover": {"service": "admissions"}}}))
    assert sio.emitted == [
        ("bot_uttered", {"text": "Cette réponse vous a-t-elle aidé ?", "quick_replies": [{"content_type": "text", "title": "Oui", "payload": "/affirm"}], "response": "utter_ask_feedback"}, "s1"),
        ("bot_uttered", {"text": "Bonjour"}, "s1"),
        ("bot_uttered", {"custom": {"handover": {"service": "admissions"}}}, "s1"),
    ]


def test_rest_messages_name_their_response() -> None:
    output = WebCollectingOutput()
    asyncio.run(output.send_response("s1", {"text": "Oui ?", "buttons": [], "utter_action": "utter_ask_feedback"}))
    asyncio.run(output.send_response("s1", {"text": "Libre"}))
    assert [m.get("response") for m in output.messages] == ["utter_ask_feedback", None]


@pytest.fixture(scope="module")
def web(tmp_path_factory) -> str:
    """The real web server process, as `accueil run` starts it, in front of a Rasa address."""
    from accueil.servers import running, web_server
    from tests.conftest import free_port

    settings = Settings(public_rasa_port=5999, web_port=free_port(), link_hosts=["ch-valmont.fr", "rdv.example.org"], var_dir=tmp_path_factory.mktemp("var"))
    with running([web_server(settings, settings.log_dir)], timeout=60):
        yield settings.web_url


def test_web_server_serves_the_demo_with_the_widget_and_a_strict_policy(web: str) -> None:
    page = requests.get(f"{web}/", timeout=5)
    assert page.status_code == 200
    assert 'data-server="http://127.0.0.1:5999"' in page.text and "__ACCUEIL_SERVER__" not in page.text
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "connect-src 'self' http://127.0.0.1:5999 ws://127.0.0.1:5999" in policy
    assert page.headers["x-content-type-options"] == "nosniff"
    config = requests.get(f"{web}/widget/config.json", timeout=5)
    voice = "ws://127.0.0.1:8090/call"
    assert config.json() == {"link_hosts": ["ch-valmont.fr", "rdv.example.org"], "max_length": 1000, "voice_url": voice}
    assert f"ws://127.0.0.1:5999 {voice};" in policy, "the page may reach the voice gateway's calls"
    worklet = requests.get(f"{web}/widget/accueil-call-worklet.js", timeout=5)
    assert worklet.status_code == 200 and worklet.headers["content-type"].startswith("text/javascript")
    assert "registerProcessor" in worklet.text
    script = requests.get(f"{web}/widget/accueil-widget.js", timeout=5)
    assert script.status_code == 200 and script.headers["content-type"].startswith("text/javascript")
    assert script.headers["access-control-allow-origin"] == "*", "any hospital page may embed it"


def test_without_the_voice_gateway_the_widget_has_no_call_button_and_the_page_no_voice_address() -> None:
    from web.server import content_security_policy, widget_config

    settings = Settings(public_rasa_port=5999, voice_enabled=False, voice_ws_port=8123)
    assert "voice_url" not in widget_config(settings)
    assert "8123" not in content_security_policy(settings.rasa_url, widget_config(settings).get("voice_url"))
    on = Settings(public_rasa_port=5999, voice_enabled=True, voice_ws_port=8123)
    assert widget_config(on)["voice_url"] == "ws://127.0.0.1:8123/call"


@pytest.mark.parametrize("path", ["/widget/build.mjs", "/..%2fserver.py", "/%2e%2e/pyproject.toml", "/nothing.html", "/widget/..%2f..%2fpyproject.toml"])
def test_web_server_serves_nothing_else(web: str, path: str) -> None:
    assert requests.get(f"{web}{path}", timeout=5).status_code == 404
