"""Bad input to the web and voice channels on a real Sanic server: arbitrary JSON, wrong types, huge strings,
unicode (lone surrogates too), control characters, binary. Every request gets a clear 4xx or the assistant's
answer (a polite French refusal for a message too long), never a 500 nor a stack trace; the server keeps
answering; what the agent already got is kept; no client metadata ever reaches it."""

from __future__ import annotations

import json
import time
import uuid

import pytest
import requests
import socketio
from hypothesis import HealthCheck, given, settings, strategies as st

from bot.web_channels import is_unicode
from core.settings import Settings
from tests.fuzz.servers import SECRET, channel_server

# No rate limit here (tests/test_rate_limit.py tests it): Hypothesis repeats its simplest senders many times.
SETTINGS = Settings(rate_limit_sender=0, rate_limit_address=0)
FUZZ = settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])

characters = st.characters(codec="utf-8") | st.characters(categories=["Cc", "Cs", "Cf", "Zl", "Zp"])
texts = st.text(characters, max_size=40)
huge = st.builds(lambda c, n: c * n, st.sampled_from(["é", "a", "\x00", "😀", "\u202e", "\\"]), st.integers(900, 20_000))
scalars = st.none() | st.booleans() | st.integers() | st.floats() | texts
anything = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4), max_leaves=12)
bodies = st.one_of(
    anything,
    st.fixed_dictionaries(
        {"sender": texts | anything, "message": texts | huge | anything},
        optional={"metadata": anything | st.fixed_dictionaries({"caller": texts | huge}), "input_channel": st.sampled_from(["voice", "rest", "socketio"]) | anything},
    ),
)
raw_bodies = st.binary(max_size=300) | st.builds(lambda body: body.encode("utf-8", "surrogatepass"), texts)

OK = (200, 400, 403, 413)


def assert_clear(reply: requests.Response) -> None:
    """A clear answer: an expected status, JSON (or Sanic's short 413 page), and no stack trace."""
    assert reply.status_code in OK, (reply.status_code, reply.text[:300])
    assert "Traceback" not in reply.text and 'File "' not in reply.text
    if reply.status_code == 413:
        return
    answer = reply.json()
    if reply.status_code == 200:
        assert isinstance(answer, list) and all(isinstance(m.get("text"), str) for m in answer)
    else:
        assert isinstance(answer["error"], str) and answer["error"]


def post(session: requests.Session, url: str, body: bytes, secret: str | None = None) -> requests.Response:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["Authorization"] = f"Bearer {secret}"
    return session.post(url, data=body, headers=headers, timeout=10)


def encode(body) -> bytes:
    return json.dumps(body, ensure_ascii=True, allow_nan=True).encode()  # lone surrogates as \ud800 escapes


@pytest.fixture(scope="module")
def server():
    with channel_server(SETTINGS) as (base, agent):
        session = requests.Session()
        assert post(session, f"{base}/webhooks/rest/webhook", encode({"sender": "avant", "message": "bonjour"})).status_code == 200
        yield base, agent, session
        assert agent.messages[0].sender_id == "avant", "what was received before the fuzzing is kept"
        assert session.get(f"{base}/webhooks/rest/", timeout=5).json() == {"status": "ok"}


def check_agent(agent) -> None:
    for message in agent.messages:
        assert isinstance(message.text, str) and isinstance(message.sender_id, str)
        assert is_unicode(message.text) and is_unicode(message.sender_id), "what the tracker store can keep"
        assert message.metadata is None or (message.input_channel == "voice" and set(message.metadata) == {"caller"})


@FUZZ
@given(body=bodies)
def test_the_rest_webhook_answers_any_json_clearly(server, body) -> None:
    base, agent, session = server
    reply = post(session, f"{base}/webhooks/rest/webhook", encode(body))
    assert_clear(reply)
    if reply.status_code == 200:
        last = agent.messages[-1]
        assert (last.input_channel, last.metadata) == ("rest", None)
        if len(last.text) > SETTINGS.max_message_length:
            assert reply.json()[0]["text"].startswith("Votre message est trop long")
    check_agent(agent)


@FUZZ
@given(raw=raw_bodies)
def test_the_rest_and_voice_webhooks_answer_any_bytes_clearly(server, raw) -> None:
    base, agent, session = server
    assert_clear(post(session, f"{base}/webhooks/rest/webhook", raw))
    assert_clear(post(session, f"{base}/webhooks/voice/webhook", raw, secret=SECRET))
    check_agent(agent)


@FUZZ
@given(body=bodies, secret=st.none() | texts.filter(lambda s: s != SECRET and "\n" not in s and "\r" not in s))
def test_the_voice_webhook_refuses_anything_without_the_secret(server, body, secret) -> None:
    base, agent, session = server
    before = len(agent.messages)
    try:
        reply = post(session, f"{base}/webhooks/voice/webhook", encode(body), secret=secret)
    except (UnicodeEncodeError, ValueError):  # a header requests itself refuses to send
        return
    assert reply.status_code in (403, 413) and "Traceback" not in reply.text
    assert len(agent.messages) == before


@FUZZ
@given(body=bodies)
def test_the_voice_webhook_with_the_secret_answers_clearly_and_keeps_only_a_short_caller(server, body) -> None:
    base, agent, session = server
    assert_clear(post(session, f"{base}/webhooks/voice/webhook", encode(body), secret=SECRET))
    check_agent(agent)


@pytest.mark.parametrize("size", [16 * 1024 + 1, 10 * 1024 * 1024])
def test_a_body_over_16_kB_gets_a_413_and_the_server_goes_on(server, size) -> None:
    base, agent, session = server
    body = encode({"sender": "gros", "message": "x" * size})
    for path, secret in (("/webhooks/rest/webhook", None), ("/webhooks/voice/webhook", SECRET)):
        try:
            reply = post(requests.Session(), base + path, body, secret)
        except requests.ConnectionError:  # the server may close before reading all of 10 MB: a refusal too
            continue
        assert reply.status_code == 413 and "Traceback" not in reply.text
    assert not [m for m in agent.messages if m.sender_id == "gros"]
    assert post(session, f"{base}/webhooks/rest/webhook", encode({"sender": "après", "message": "bonjour"})).status_code == 200


# --- socket.io ------------------------------------------------------------------------------------------

events = st.lists(
    st.tuples(
        st.sampled_from(["user_uttered", "session_request", "autre"]),
        anything | st.binary(max_size=100) | st.fixed_dictionaries({"message": texts | huge | anything}, optional={"session_id": texts | anything, "metadata": anything}),
    ),
    max_size=5,
)


def socket_client(base: str) -> socketio.Client:
    client = socketio.Client(reconnection=False)
    client.connect(base, socketio_path="/socket.io", transports=["polling"], wait_timeout=10)
    return client


def hang_up(client: socketio.Client) -> None:
    """Disconnects without waiting for the pending long-polling request (the server holds it up to its ping interval)."""
    client._send_packet(client.packet_class(socketio.packet.DISCONNECT, namespace="/"))
    client.eio.disconnect(abort=True)


def reaches_the_agent(event: str, data) -> bool:
    """Whether the channel passes this event on to the agent: a message, of a session, not too long."""
    if event != "user_uttered" or not isinstance(data, dict) or not isinstance(data.get("message"), str):
        return False
    sender = data.get("session_id")
    return isinstance(sender, str) and 0 < len(sender) <= 255 and is_unicode(sender) and len(data["message"]) <= SETTINGS.max_message_length


def size(data) -> int:
    try:
        return len(json.dumps(data).encode())
    except TypeError:  # bytes
        return len(data)


@settings(max_examples=20, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(sent=events)
def test_the_socketio_channel_survives_any_event_and_still_answers(server, sent) -> None:
    base, agent, _ = server
    client = socket_client(base)
    session = uuid.uuid4().hex
    try:
        client.emit("session_request", {"session_id": session})
        before = len(agent.messages)
        expected = 0
        for event, data in sent:
            if size(data) > 12_000:
                continue  # over the size limit the server drops the connection: tested below
            expected += reaches_the_agent(event, data)
            client.emit(event, data)
        client.emit("user_uttered", {"message": "fin", "session_id": session, "metadata": {"caller": "0612345678"}})
        deadline = time.monotonic() + 10
        while len(agent.messages) < before + expected + 1 and time.monotonic() < deadline:
            time.sleep(0.02)
        received = agent.messages[before:]
        assert len(received) == expected + 1
        assert all((m.input_channel, m.metadata) == ("socketio", None) for m in received)
        assert any(m.text == "fin" and m.sender_id == session for m in received)
    finally:
        hang_up(client)
    check_agent(agent)


def test_the_socketio_channel_drops_a_message_over_the_size_limit_and_garbage_and_goes_on(server) -> None:
    base, agent, session = server
    client = socket_client(base)
    try:
        client.emit("session_request", {"session_id": "gros-socket"})
        # Garbage straight into engine.io's polling endpoint of this live session: a clear answer, never a 500.
        for raw in (b"\x00\xff garbage", b"4" + b"\xff" * 100, b'42["user_uttered", {', b"4" + b"x" * 20_000):
            reply = session.post(f"{base}/socket.io/?EIO=4&transport=polling&sid={client.eio.sid}", data=raw, timeout=5)
            assert reply.status_code in (200, 400, 413) and "Traceback" not in reply.text
        client.emit("user_uttered", {"message": "é" * 20_000, "session_id": "gros-socket"})
        time.sleep(0.5)
    finally:
        hang_up(client)
    assert not [m for m in agent.messages if m.sender_id == "gros-socket"]
    assert post(session, f"{base}/webhooks/rest/webhook", encode({"sender": "après-socket", "message": "bonjour"})).status_code == 200
