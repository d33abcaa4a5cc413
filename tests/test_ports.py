"""core/ports.py: free ports below the kernel's ephemeral range, never twice, one share per test worker."""

from __future__ import annotations

import pytest

from core import ports


@pytest.fixture
def whole_range():
    """The process's share put back as the session had it (the tests may run in an xdist worker)."""
    before = ports._share
    yield
    ports.share(*before)


def test_each_share_hands_out_ports_of_its_own_slice_only(whole_range) -> None:
    top = min(ports.ephemeral_range()[0], 32768)
    middle = ports.LOWEST + (top - ports.LOWEST) // 2
    ports.share(0, 2)
    first = [ports.free_port_run(3, step=2) for _ in range(50)]
    ports.share(1, 2)
    second = [ports.free_port_run(3, step=2) for _ in range(50)]
    assert all(ports.LOWEST <= base and base + 4 < middle for base in first)
    assert all(middle <= base and base + 4 < top for base in second)
    handed = [base + i * 2 for base in first + second for i in range(3)]
    assert len(handed) == len(set(handed)), "a port was handed out twice"


def test_a_share_that_does_not_exist_is_refused(whole_range) -> None:
    for index, count in ((2, 2), (-1, 2), (0, 0)):
        with pytest.raises(ValueError):
            ports.share(index, count)
