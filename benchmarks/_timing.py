"""Timing helpers shared by the benchmark scripts: medians over repeats, with the spread."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def per_call_us(
    func: Callable[[], object], *, number: int = 2000, repeat: int = 7
) -> tuple[float, float]:
    """Median and spread (max - min) of µs per call of ``func`` over ``repeat`` timed loops."""
    for _ in range(min(number, 200)):
        func()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            func()
        samples.append((time.perf_counter() - start) / number * 1e6)
    return statistics.median(samples), max(samples) - min(samples)
