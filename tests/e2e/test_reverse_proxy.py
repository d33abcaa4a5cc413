"""The hospital's TLS reverse proxy (deploy/nginx/accueil.conf in a real nginx) in front of the running assistant:
a patient's question gets the French answer over HTTPS, a call goes through over wss://, and the conversation
just held cannot be read through the proxy, while the private door serves it to Accueil's own processes."""

from __future__ import annotations

import asyncio
import json
import ssl
import uuid

import pytest
import requests
import websockets

from tests.conftest import free_port
from tests.e2e.test_rest_questions import answer_text, contains
from tests.nginx_proxy import running_nginx

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def proxy(e2e_settings, web_url, rasa_url, voice_url, tmp_path_factory):
    with running_nginx(e2e_settings, tmp_path_factory.mktemp("nginx"), free_port(), free_port()) as running_proxy:
        yield running_proxy


def test_over_https_a_patient_gets_the_french_answer_and_nobody_reads_the_conversation(proxy, e2e_settings, rasa_url) -> None:
    page = requests.get(f"{proxy.https_url}/", verify=proxy.certificate, timeout=10)
    assert page.status_code == 200 and "accueil-widget.js" in page.text
    assert page.headers["Strict-Transport-Security"].startswith("max-age=")

    sender = uuid.uuid4().hex
    reply = requests.post(
        f"{proxy.https_url}/webhooks/rest/webhook",
        json={"sender": sender, "message": "Quels sont les horaires de visite en réanimation ?"},
        verify=proxy.certificate,
        timeout=60,
    )
    assert reply.status_code == 200 and "Strict-Transport-Security" in reply.headers
    answer = answer_text(reply.json())
    assert contains(answer, "14h") and contains(answer, "19h"), answer  # as tests/e2e/questions.yml expects

    token = {"token": e2e_settings.rasa_api_token}
    for path in ("/status", f"/conversations/{sender}/tracker", "/version", "/domain"):
        through = requests.get(f"{proxy.https_url}{path}", params=token, verify=proxy.certificate, timeout=10)
        assert through.status_code == 404 and "réanimation" not in through.text and '"events"' not in through.text, path
        public = requests.get(f"{e2e_settings.rasa_url}{path}", params=token, timeout=10)
        assert public.status_code == 404, path
    private = requests.get(f"{rasa_url}/conversations/{sender}/tracker", params=token, timeout=10)
    assert private.status_code == 200 and private.json()["sender_id"] == sender


def test_over_wss_the_call_websocket_answers(proxy) -> None:
    context = ssl.create_default_context(cafile=str(proxy.certificate))

    async def call() -> dict:
        async with websockets.connect(proxy.https_url.replace("https://", "wss://") + "/call", ssl=context) as socket:
            first = json.loads(await asyncio.wait_for(socket.recv(), 30))
            await socket.send(json.dumps({"type": "hangup"}))
            return first

    answered = asyncio.run(call())
    assert answered["type"] == "answered" and answered["call_id"]
    health = requests.get(f"{proxy.https_url}/health", verify=proxy.certificate, timeout=10).json()
    assert "active_calls" not in health  # the web server's readiness: the gateway's /health is not routed
