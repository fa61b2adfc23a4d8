"""Viewer counts go out when they change (at most about once a second, less often in rooms
with many members on one node), not every second whatever they are."""

from __future__ import annotations

import asyncio

from realtime.hub import COUNT_WRITES_PER_S, PRESENCE_EVERY_S, count_interval
from tests.support.harness import RunningApp
from tests.support.rooms import Connect, make_session


def test_big_rooms_get_counts_less_often() -> None:
    """Once a second up to ``COUNT_WRITES_PER_S`` members; beyond, that many writes a second."""
    assert count_interval(0) == count_interval(COUNT_WRITES_PER_S) == PRESENCE_EVERY_S
    assert count_interval(2 * COUNT_WRITES_PER_S) == 2.0
    assert count_interval(4 * COUNT_WRITES_PER_S) == 4.0


async def test_an_unchanged_count_is_not_sent_again(app: RunningApp, connect: Connect) -> None:
    """A viewer alone in a room gets the count once it has been counted, and no other count
    frame while nobody comes or goes; a second viewer's arrival is sent."""
    room = await make_session(app)
    first = await connect()
    await first.request("j", type="join", room=room)
    await first.until("viewers", timeout=5, room=room, count=1)
    await asyncio.sleep(3 * PRESENCE_EVERY_S)
    second = await connect()
    await second.request("j", type="join", room=room)
    counts: list[int] = []
    while not counts or counts[-1] != 2:
        frame = await first.next(timeout=5)
        if frame["type"] == "viewers":
            counts.append(frame["count"])
    assert counts == [2]
