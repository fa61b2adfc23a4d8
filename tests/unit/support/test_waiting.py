"""The one waiting helper: polls plain and async predicates, returns what held, names what
it waited for when it gives up."""

from __future__ import annotations

import pytest

from tests.support.waiting import WaitTimedOut, until, until_sync


async def test_until_returns_the_first_truthy_value_of_a_plain_or_async_predicate() -> None:
    """The predicate is called until it holds; its value comes back, awaited if need be."""
    calls: list[int] = []

    def third() -> int:
        calls.append(1)
        return len(calls) if len(calls) >= 3 else 0

    async def at_once() -> str:
        return "yes"

    assert await until(third, timeout=5, what="the third call", interval=0.001) == 3
    assert await until(at_once, timeout=5, what="nothing") == "yes"


async def test_until_names_what_it_waited_for_and_the_last_value() -> None:
    """A condition that never holds fails as an assertion and a timeout, with a sentence."""
    with pytest.raises(WaitTimedOut) as caught:
        await until(lambda: [], timeout=0.05, what="the list to fill", interval=0.01)
    assert str(caught.value) == "timed out after 0.05 s waiting for the list to fill (last: [])"
    assert isinstance(caught.value, AssertionError)
    assert isinstance(caught.value, TimeoutError)


def test_until_sync_blocks_and_reads_a_lazy_description() -> None:
    """The blocking variant behaves the same; a callable description is read only on failure."""
    described: list[str] = []

    def what() -> str:
        described.append("read")
        return "the server"

    assert until_sync(lambda: 7, timeout=1, what=what) == 7
    assert described == []
    with pytest.raises(WaitTimedOut, match=r"^timed out after 0\.02 s waiting for the server"):
        until_sync(lambda: None, timeout=0.02, what=what, interval=0.005)
    assert described == ["read"]
