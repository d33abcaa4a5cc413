"""Pure helpers of the SIP transport: addresses, URIs, peers allowed, the summary header's value.

No pjsua2 here: plain strings in, plain strings out.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from typing import Sequence

SUMMARY_MAX_BYTES = 900


def sanitize_header_value(value: str, max_bytes: int = SUMMARY_MAX_BYTES) -> str:
    """One line of printable text, at most `max_bytes` of UTF-8, cut at a character boundary."""
    chars = []
    for char in value:
        category = unicodedata.category(char)
        if char in "\r\n\t\u2028\u2029" or category in ("Zl", "Zp"):
            chars.append(" ")
        elif category[0] == "C":  # control, format, surrogate, private use, unassigned
            continue
        else:
            chars.append(char)
    text = re.sub(r"\s+", " ", "".join(chars)).strip()
    encoded = text.encode("utf-8")
    if len(encoded) > max_bytes:
        text = encoded[:max_bytes].decode("utf-8", errors="ignore").rstrip()
    return text


def uri_of(name_addr: str) -> str:
    """`"Name" <sip:a@b>;tag=x` -> `sip:a@b`."""
    match = re.search(r"<([^>]*)>", name_addr)
    if match:
        return match.group(1).strip()
    return name_addr.split(";", 1)[0].strip()


def hostport_of(uri: str) -> str:
    """The host[:port] of a SIP URI (`sip:user@host:port;params` -> `host:port`)."""
    rest = re.sub(r"^[a-zA-Z]+:", "", uri_of(uri))
    rest = rest.split("@", 1)[-1]
    return re.split(r"[;?>]", rest, 1)[0]


def ip_of(address: str) -> str:
    """`1.2.3.4:5060` or `[::1]:5060` -> the IP address."""
    address = address.strip()
    if address.startswith("["):
        return address[1 : address.index("]")]
    if address.count(":") == 1:
        return address.split(":", 1)[0]
    return address


def parse_networks(peers: Sequence[str]) -> list[ipaddress._BaseNetwork]:
    networks = []
    for peer in peers:
        peer = peer.strip()
        if peer:
            networks.append(ipaddress.ip_network(peer, strict=False))
    return networks


def peer_allowed(ip: str, networks: Sequence[ipaddress._BaseNetwork]) -> bool:
    """Whether `ip` is in one of `networks` (an IPv4-mapped IPv6 address as its IPv4); no networks: every peer."""
    if not networks:
        return True
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False
    if getattr(address, "ipv4_mapped", None):
        address = address.ipv4_mapped
    return any(address in net for net in networks)


def transfer_uri(target: str, remote_uri: str, peer: str) -> str:
    """Where a REFER sends the caller: `target` itself when it is a URI, else an extension on the caller's host."""
    target = target.strip()
    if re.match(r"^(sip|sips|tel):", target, re.IGNORECASE):
        return target
    if target.startswith("<") and target.endswith(">"):
        return target[1:-1]
    if "@" in target:
        return f"sip:{target}"
    host = hostport_of(remote_uri) or ip_of(peer)
    return f"sip:{target}@{host}"
