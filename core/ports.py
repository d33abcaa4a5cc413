"""Free loopback ports for servers Accueil starts on its own (the gate's measure, tests, benchmarks).

Chosen below the kernel's ephemeral range: a server may bind its port minutes after it was chosen (Rasa loads
its model first), and meanwhile any outgoing connection could take a port of that range. Never the same port
twice in a process; processes that run side by side (the test workers) each take their own share of the range.
"""

from __future__ import annotations

import random
import socket
from pathlib import Path

LOWEST = 20000
_generator = random.Random()  # its own: code that seeds the global generator must not make the same ports come back
_handed_out: set[int] = set()
_share = (0, 1)  # (index, count): this process's slice of the range


def share(index: int, count: int) -> None:
    """Confines this process to slice `index` of `count` equal slices of the range, so that processes choosing
    ports at the same time (pytest-xdist's workers) never hand out the same one."""
    global _share
    if not 0 <= index < count:
        raise ValueError(f"slice {index} of {count}")
    _share = (index, count)


def ephemeral_range() -> tuple[int, int]:
    """The kernel's range of ports for outgoing connections (Linux: 32768–60999 by default)."""
    try:
        low, high = map(int, Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())
    except (OSError, ValueError):
        low, high = 32768, 60999
    return low, high


def bindable(port: int, host: str = "127.0.0.1") -> bool:
    """Whether `port` is free on `host` for both TCP and UDP (SIP listens on both)."""
    try:
        for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
            with socket.socket(socket.AF_INET, kind) as sock:
                sock.bind((host, port))
    except OSError:
        return False
    return True


def free_port_run(count: int = 1, step: int = 1) -> int:
    """A port P such that P, P + step, … (count ports) are free now, for servers that take consecutive ports."""
    top = min(ephemeral_range()[0], 32768)
    width = (top - LOWEST) // _share[1]
    low = LOWEST + _share[0] * width
    high = low + width - count * step
    for _ in range(1000):
        base = _generator.randrange(low, high)
        ports = [base + i * step for i in range(count)]
        if _handed_out.isdisjoint(ports) and all(bindable(port) for port in ports):
            _handed_out.update(ports)
            return base
    raise RuntimeError("no run of free ports")


def free_port() -> int:
    return free_port_run(1)
