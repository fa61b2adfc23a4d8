"""Joins read their session from a cache per node; a change of the session made on another
node reaches that cache through the engine (two nodes, PostgreSQL, Redis)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest

from tests.e2e.realtime.test_cluster import Cluster, cluster, connect
from web.keys import ACTIONS

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
__all__ = ["cluster"]  # the fixture, shared with test_cluster


async def until(check: Callable[[], bool], what: str, seconds: float = 5.0) -> None:
    """Poll ``check()`` until it is true."""
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.02)


async def test_a_change_on_one_node_reaches_the_other_nodes_joins(cluster: Cluster) -> None:
    """Viewers joining on node B read the session once; the session moves to another studio
    and turns on automatic Q&A approval through node A: B forgets it, and its next joins see
    the change (the studio's moderator is staff no more, a viewer's question is approved)."""
    a, b, room = cluster.a, cluster.b, cluster.room
    cache = b.web_app[ACTIONS].sessions
    session = await (await a.client.get(f"/api/v1/sessions/{room}")).json()
    answer = await a.client.post(
        "/api/v1/tokens",
        json={"role": "moderator", "name": "Hall moderator", "studio_ids": [session["studio_id"]]},
        headers=a.admin,
    )
    moderator_token = (await answer.json())["token"]
    reads = cache.reads
    viewers = [await connect(b) for _ in range(5)]
    for index, viewer in enumerate(viewers):
        assert (await viewer.request(f"j{index}", type="join", room=room))["type"] == "joined"
    moderator = await connect(b, moderator_token)
    assert (await moderator.request("j", type="join", room=room))["moderator"] is True
    assert cache.reads == reads + 1  # six joins, one read
    assert cache.holds(room)

    other = await a.client.post("/api/v1/studios", json={"name": "Annex"}, headers=a.admin)
    patch = {"studio_id": (await other.json())["id"], "qa_auto_approve": True}
    answer = await a.client.patch(f"/api/v1/sessions/{room}", json=patch, headers=a.admin)
    assert answer.status == 200, await answer.text()
    await until(lambda: not cache.holds(room), "node B to forget the changed session")

    again = await connect(b, moderator_token)
    assert (await again.request("j2", type="join", room=room))["moderator"] is False
    asker = await connect(b)
    await asker.request("j3", type="join", room=room)
    await asker.request("q", type="qa.ask", room=room, text="Is the annex open?")
    asked = await viewers[0].event("qa.question")
    assert asked["question"]["status"] == "approved"
    assert cache.reads == reads + 2
