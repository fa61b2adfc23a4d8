"""Measure how long a server takes to answer a cheap request while it does heavy work."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


async def latencies_during(
    probe: Callable[[], Awaitable[object]], work: Awaitable[T], *, interval: float = 0.01
) -> tuple[T, list[float]]:
    """Run ``work`` while calling ``probe`` again and again (``interval`` apart); return the
    result of ``work`` and the seconds each probe took that began before ``work`` ended."""
    done = asyncio.Event()
    seconds: list[float] = []

    async def prober() -> None:
        while not done.is_set():
            began = time.perf_counter()
            await probe()
            seconds.append(time.perf_counter() - began)
            await asyncio.sleep(interval)

    task = asyncio.create_task(prober())
    try:
        await asyncio.sleep(interval)  # the prober is running before the work starts
        result = await work
    finally:
        done.set()
        await task
    return result, seconds
