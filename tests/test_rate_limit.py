"""The web channels' rate limits (bot/rate_limit.py): per conversation and per client address, with a polite
French refusal (REST: HTTP 429, Retry-After and a bot message; socket.io: a bot_uttered), nothing reaching the
assistant; X-Forwarded-For believed only from a trusted proxy."""

from __future__ import annotations

import time

import requests
import socketio

from bot.rate_limit import TokenBuckets, client_address, networks, too_many
from core.settings import Settings
from tests.fuzz.servers import channel_server


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_allows_its_burst_then_one_message_per_refill_and_forgets_the_oldest_keys() -> None:
    clock = Clock()
    buckets = TokenBuckets(6, max_keys=2, clock=clock)  # 6 a minute: one every 10 s
    assert [buckets.take("a") for _ in range(6)] == [0.0] * 6
    assert buckets.take("a") == 10.0
    clock.now += 5
    assert buckets.take("a") == 5.0, "a refused message takes nothing"
    clock.now += 5
    assert buckets.take("a") == 0.0 and buckets.take("a") > 0
    assert buckets.take("b") == 0.0 and buckets.take("c") == 0.0
    assert buckets.take("a") == 0.0, "the least recently used bucket was forgotten (memory is bounded)"
    assert TokenBuckets(0).take("x") == 0.0, "0: no limit"
    assert too_many(0.2).endswith("Merci de patienter une seconde avant de le renvoyer.")
    assert "patienter 10 secondes" in too_many(9.5)


def test_the_client_address_comes_from_x_forwarded_for_only_through_trusted_proxies() -> None:
    trusted = networks(["127.0.0.1", "::1", "10.0.0.0/8"])
    assert client_address("203.0.113.7", "198.51.100.1", trusted) == "203.0.113.7", "a client cannot choose its address"
    assert client_address("127.0.0.1", "198.51.100.1", trusted) == "198.51.100.1"
    assert client_address("127.0.0.1", "6.6.6.6, 198.51.100.1, 10.1.2.3", trusted) == "198.51.100.1", "the nearest untrusted hop"
    assert client_address("127.0.0.1", "n'importe quoi", trusted) == "127.0.0.1"
    assert client_address("127.0.0.1", None, trusted) == "127.0.0.1"
    assert client_address("::ffff:127.0.0.1", "2001:db8::1", trusted) == "2001:db8::1"
    assert client_address("127.0.0.1", "198.51.100.1", []) == "127.0.0.1"


def rest(base: str, sender: str, forwarded_for: str | None = None) -> requests.Response:
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    return requests.post(f"{base}/webhooks/rest/webhook", json={"sender": sender, "message": "bonjour"}, headers=headers, timeout=5)


def test_rest_refuses_politely_over_the_limits_and_the_assistant_gets_nothing() -> None:
    with channel_server(Settings(rate_limit_sender=3, rate_limit_address=6)) as (base, agent):
        assert [rest(base, "a").status_code for _ in range(3)] == [200] * 3
        refused = rest(base, "a")
        assert refused.status_code == 429 and 1 <= int(refused.headers["Retry-After"]) <= 20
        [message] = refused.json()
        assert message["recipient_id"] == "a" and message["text"].startswith("Vous avez envoyé beaucoup de messages")
        codes = [rest(base, s).status_code for s in ("b", "c", "d")]
        assert codes == [200, 200, 429], "six requests a minute from this address, the refused one included"
        assert rest(base, "e", forwarded_for="198.51.100.1").status_code == 200, "through the local proxy: the patient's own address"
        assert [m.sender_id for m in agent.messages] == ["a", "a", "a", "b", "c", "e"]


def test_x_forwarded_for_is_ignored_when_the_proxy_is_not_trusted() -> None:
    with channel_server(Settings(rate_limit_sender=0, rate_limit_address=2, trusted_proxies=[])) as (base, agent):
        codes = [rest(base, f"s{i}", forwarded_for=f"198.51.100.{i}").status_code for i in range(3)]
        assert codes == [200, 200, 429]
        assert len(agent.messages) == 2


def test_socketio_refuses_politely_with_a_bot_message_and_the_assistant_gets_nothing() -> None:
    with channel_server(Settings(rate_limit_sender=2, rate_limit_address=100)) as (base, agent):
        client = socketio.Client(reconnection=False)
        answers: list = []
        client.on("bot_uttered", answers.append)
        client.connect(base, socketio_path="/socket.io", transports=["polling"], wait_timeout=10)
        try:
            client.emit("session_request", {"session_id": "patient"})
            for _ in range(3):
                client.emit("user_uttered", {"message": "bonjour", "session_id": "patient"})
            deadline = time.monotonic() + 10
            while len(answers) < 3 and time.monotonic() < deadline:
                time.sleep(0.02)
        finally:
            client.eio.disconnect(abort=True)
        texts = sorted(a["text"] for a in answers)
        assert texts[0] == "Bonjour." and texts[1] == "Bonjour." and texts[2].startswith("Vous avez envoyé beaucoup de messages")
        assert len(agent.messages) == 2
