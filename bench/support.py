"""What the benchmarks share: free ports for the servers they start (`core.ports`), and percentiles."""

from __future__ import annotations

from core.ports import free_port, free_port_run  # noqa: F401  (the benchmarks import them from here)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]
