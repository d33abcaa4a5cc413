"""Per-client rate limits of the web channels: a token bucket per conversation (sender id) and per client address.

Each bucket holds up to N messages (the per-minute setting) and refills at N per minute, so a patient who writes
or clicks as fast as a person can never meets it, while a script flooding the assistant is refused politely
before anything reaches Rasa (nothing is stored for a refused message).

The client's address is the connection's peer, unless that peer is a trusted reverse proxy
(`ACCUEIL_TRUSTED_PROXIES`): then it is the nearest address of `X-Forwarded-For` that is not a trusted proxy.
A header sent by any other peer is ignored, so a client cannot choose its own address.
"""

from __future__ import annotations

import ipaddress
import math
import time
from collections import OrderedDict
from typing import Callable, Iterable, Optional

from core.settings import Settings

TOO_MANY = (
    "Vous avez envoyé beaucoup de messages en peu de temps : celui-ci n'a pas été transmis. "
    "Merci de patienter {wait} avant de le renvoyer."
)
MAX_KEYS = 100_000  # buckets kept per limit; the least recently used one is forgotten beyond

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def too_many(wait: float) -> str:
    """The polite French refusal, saying how long to wait."""
    seconds = max(1, math.ceil(wait))
    return TOO_MANY.format(wait="une seconde" if seconds == 1 else f"{seconds} secondes")


class TokenBuckets:
    """A bucket of `per_minute` tokens per key, refilled at `per_minute` a minute; memory bounded by `max_keys`."""

    def __init__(self, per_minute: int, max_keys: int = MAX_KEYS, clock: Callable[[], float] = time.monotonic) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self.max_keys = max_keys
        self.clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def take(self, key: str) -> float:
        """0 when `key` may go on (a token is taken), else the seconds until it may."""
        if self.capacity <= 0:
            return 0.0
        now = self.clock()
        tokens, last = self._buckets.pop(key, (self.capacity, now))
        tokens = min(self.capacity, tokens + (now - last) * self.rate)
        wait = 0.0
        if tokens >= 1:
            tokens -= 1
        else:
            wait = (1 - tokens) / self.rate
        self._buckets[key] = (tokens, now)
        while len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)
        return wait


def networks(addresses: Iterable[str]) -> list[Network]:
    return [ipaddress.ip_network(a.strip(), strict=False) for a in addresses if a.strip()]


def _address(text: str) -> Optional[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    try:
        address = ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None
    return address.ipv4_mapped or address if isinstance(address, ipaddress.IPv6Address) else address


def client_address(peer: str, forwarded_for: Optional[str], trusted: list[Network]) -> str:
    """The client's address: the peer, or through trusted proxies the nearest untrusted hop of X-Forwarded-For."""
    current = _address(peer or "")
    if current is None:
        return peer or "?"
    hops = (forwarded_for or "").split(",")
    while any(current in network for network in trusted) and hops:
        hop = _address(hops.pop())
        if hop is None:
            break
        current = hop
    return str(current)


class WebRateLimit:
    """The web channels' two limits, from the settings."""

    def __init__(self, settings: Settings, clock: Callable[[], float] = time.monotonic) -> None:
        self.senders = TokenBuckets(settings.rate_limit_sender, clock=clock)
        self.addresses = TokenBuckets(settings.rate_limit_address, clock=clock)
        self.trusted = networks(settings.trusted_proxies)

    def address_wait(self, peer: str, forwarded_for: Optional[str]) -> float:
        return self.addresses.take(client_address(peer, forwarded_for, self.trusted))

    def sender_wait(self, sender: str) -> float:
        return self.senders.take(sender)
