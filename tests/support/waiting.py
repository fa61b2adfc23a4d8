"""Wait for a condition in tests: the one poll-until helper, for coroutines and plain code.

``await until(predicate, timeout=..., what=...)`` calls ``predicate`` (plain or async) every
``interval`` seconds until it returns something truthy, and returns that. After ``timeout``
seconds it raises ``WaitTimedOut`` naming what it waited for; ``what`` may be a callable,
read only then, so the message can carry a log tail. ``until_sync`` does the same with
``time.sleep`` for code outside an event loop (starting servers). Tests wait for conditions,
never for a fixed time.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, overload

T = TypeVar("T")

Description = str | Callable[[], str]


class WaitTimedOut(AssertionError, TimeoutError):
    """The condition did not hold in time: a failed assertion, and a timeout."""


def _failure(what: Description, timeout: float, last: object) -> WaitTimedOut:
    said = what() if callable(what) else what
    return WaitTimedOut(f"timed out after {timeout:g} s waiting for {said} (last: {last!r})")


@overload
async def until(
    predicate: Callable[[], Awaitable[T]],
    *,
    timeout: float,
    what: Description,
    interval: float = ...,
) -> T: ...


@overload
async def until(
    predicate: Callable[[], T], *, timeout: float, what: Description, interval: float = ...
) -> T: ...


async def until(
    predicate: Callable[[], Any],
    *,
    timeout: float,
    what: Description,
    interval: float = 0.05,
) -> Any:
    """Call ``predicate`` every ``interval`` s until it returns a truthy value; return it.

    ``predicate`` may be a plain function or a coroutine function. Raises ``WaitTimedOut``
    (an ``AssertionError``) after ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value
        if time.monotonic() >= deadline:
            raise _failure(what, timeout, value)
        await asyncio.sleep(interval)


def until_sync(
    predicate: Callable[[], T],
    *,
    timeout: float,
    what: Description,
    interval: float = 0.05,
) -> T:
    """``until`` for code outside an event loop: blocks with ``time.sleep`` between calls."""
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        if time.monotonic() >= deadline:
            raise _failure(what, timeout, value)
        time.sleep(interval)
    return value
