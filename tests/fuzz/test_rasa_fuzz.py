"""Bad input to the real Rasa server (the trained model, the action server, `accueil.rasa_launch`): the REST and
voice webhooks and socket.io get clear errors or answers, never a 500; a body over 16 kB gets a 413; the server
keeps answering, and a conversation stored before the fuzzing still has all its events after."""

from __future__ import annotations

import json
import time
import uuid

import pytest
import requests
import socketio
from hypothesis import HealthCheck, given, settings, strategies as st

from tests.fuzz.test_channels_fuzz import anything, bodies, encode, hang_up, huge, raw_bodies, texts

pytestmark = pytest.mark.e2e

FUZZ = settings(max_examples=30, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
KEPT = f"fuzz-kept-{uuid.uuid4().hex[:8]}"
# Well-formed messages too, so that the model, the actions and the tracker store get the odd text.
messages = st.fixed_dictionaries(
    {"sender": texts.map(lambda s: f"fuzz-{s}"[:255]), "message": texts | huge},
    optional={"metadata": anything | st.just({"caller": "0612345678"}), "input_channel": st.just("voice")},
)


def tracker_events(e2e_settings, rasa_url: str, sender: str) -> list[dict]:
    reply = requests.get(f"{rasa_url}/conversations/{sender}/tracker", params={"token": e2e_settings.rasa_api_token}, timeout=30)
    reply.raise_for_status()
    return reply.json()["events"]


def say(rasa_url: str, sender: str, text: str, metadata: dict | None = None) -> list[dict]:
    """The assistant's answer; waits as the server says when it is over the rate limit (the e2e suite shares it)."""
    body = encode({"sender": sender, "message": text, **({"metadata": metadata} if metadata else {})})
    for _ in range(5):
        reply = requests.post(f"{rasa_url}/webhooks/rest/webhook", data=body, headers={"Content-Type": "application/json"}, timeout=60)
        if reply.status_code != 429:
            break
        time.sleep(int(reply.headers["Retry-After"]))
    assert reply.status_code == 200, reply.text[:300]
    return reply.json()


@pytest.fixture(scope="module")
def rasa(rasa_url: str, e2e_settings):
    assert say(rasa_url, KEPT, "bonjour")
    before = tracker_events(e2e_settings, rasa_url, KEPT)
    session = requests.Session()
    session.public = e2e_settings.rasa_url  # the door patients' browsers reach: the channels only
    yield rasa_url, session
    assert requests.get(f"{rasa_url}/", timeout=10).status_code == 200, "the server still answers"
    after = tracker_events(e2e_settings, rasa_url, KEPT)
    assert [(e["event"], e.get("text")) for e in after] == [(e["event"], e.get("text")) for e in before], "nothing stored is lost"
    assert any(m.get("text") for m in say(rasa_url, f"fuzz-after-{uuid.uuid4().hex[:8]}", "bonjour"))


def assert_clear(reply: requests.Response) -> None:
    assert reply.status_code in (200, 400, 403, 413, 429), (reply.status_code, reply.text[:300])
    assert "Traceback" not in reply.text and 'File "' not in reply.text
    if reply.status_code in (200, 429):
        answer = reply.json()
        assert isinstance(answer, list) and answer, "an empty answer is a failure the channel caught"
    elif reply.status_code != 413:
        assert reply.json()["error"]


@FUZZ
@given(body=bodies | messages)
def test_the_rest_webhook_of_the_real_server_answers_any_json_clearly(rasa, body) -> None:
    base, session = rasa
    if isinstance(body, dict) and body.get("sender") == KEPT:
        return
    for door in (base, session.public):
        assert_clear(session.post(f"{door}/webhooks/rest/webhook", data=encode(body), headers={"Content-Type": "application/json"}, timeout=60))


ODD = ["\x00\x01\x1b[31m", "\ud800 bonjour \udfff", "🏥" * 300, "\u202eruoj nob", "é" * 1001, "' OR 1=1 --", "<script>", "\\" * 500, "\n\r\t"]


@pytest.mark.parametrize("text", ODD, ids=range(len(ODD)))
def test_odd_messages_get_an_answer_from_the_model_or_a_polite_refusal(rasa, text) -> None:
    base, _ = rasa
    answer = [m.get("text") or "" for m in say(base, f"fuzz-odd-{uuid.uuid4().hex[:8]}", text, {"caller": "0612345678"})]
    assert any(answer)
    if len(text) > 1000:
        assert answer == [answer[0]] and answer[0].startswith("Votre message est trop long")
    assert "0612345678" not in " ".join(answer) and "appelé" not in " ".join(answer)


@FUZZ
@given(raw=raw_bodies)
def test_the_real_webhooks_answer_any_bytes_clearly_and_the_voice_one_wants_its_secret(rasa, raw) -> None:
    base, session = rasa
    assert_clear(session.post(f"{base}/webhooks/rest/webhook", data=raw, timeout=60))
    for headers in ({}, {"Authorization": "Bearer faux"}):
        reply = session.post(f"{base}/webhooks/voice/webhook", data=raw, headers=headers, timeout=60)
        assert reply.status_code in (403, 413) and "Traceback" not in reply.text


@pytest.mark.parametrize("size", [16 * 1024 + 1, 10 * 1024 * 1024])
def test_the_real_server_refuses_a_body_over_16_kB_with_a_413(rasa, size) -> None:
    base, session = rasa
    body = json.dumps({"sender": KEPT, "message": "x" * size}).encode()
    for url in (f"{base}/webhooks/rest/webhook", f"{base}/webhooks/voice/webhook", f"{base}/model", f"{session.public}/webhooks/rest/webhook"):
        try:
            reply = requests.request("PUT" if url.endswith("/model") else "POST", url, data=body, timeout=60)
        except requests.ConnectionError:  # closed before reading all of 10 MB: a refusal too
            continue
        assert reply.status_code == 413, (url, reply.status_code)


def test_the_real_socketio_channel_survives_bad_events_and_still_answers(rasa) -> None:
    base, _ = rasa
    client = socketio.Client(reconnection=False)
    answers: list = []
    client.on("bot_uttered", answers.append)
    client.connect(base, socketio_path="/socket.io", transports=["polling"], wait_timeout=10)
    session = f"fuzz-socket-{uuid.uuid4().hex[:8]}"
    try:
        client.emit("session_request", {"session_id": session})
        for data in (None, "bonjour", [1, 2], b"\x00\xff", {"message": 3, "session_id": session}, {"message": "x", "session_id": ["y"]}, {}):
            client.emit("user_uttered", data)
        client.emit("session_request", None)
        client.emit("user_uttered", {"message": "bonjour", "session_id": session, "metadata": {"caller": "0612345678"}})
        deadline = time.monotonic() + 30
        while not answers and time.monotonic() < deadline:
            time.sleep(0.05)
        assert answers and any(a.get("text") for a in answers)
    finally:
        hang_up(client)
