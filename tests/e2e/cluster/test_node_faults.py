"""A node killed (kill -9) behind nginx: during chat, and while it holds a publish. Nothing
unrelated to the dead node's media fails through nginx, chat loses and repeats nothing, and the
node comes back by itself (the supervisor does what compose's restart policy does)."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from tests.support import traffic
from tests.support.cluster import Cluster, Node
from tests.support.cluster_tier import TIER, Steady, steady_probes, until_playing
from tests.support.media_stage import publisher
from tests.support.waiting import until

pytestmark = [*TIER, pytest.mark.timeout(240)]


async def lands_on(cluster: Cluster, node: Node, seconds: float = 20.0) -> None:
    """Wait until a websocket opened through nginx is served by ``node`` (back in rotation)."""
    wanted = await node.hub_id()

    async def served_by_node() -> bool:
        async with http.ws_connect(cluster.url + "/ws") as ws:
            return bool((await ws.receive_json(timeout=10))["node"] == wanted)

    async with aiohttp.ClientSession() as http:
        await until(
            served_by_node, timeout=seconds, what=f"nginx to send to {node.name} again",
            interval=0.2,
        )  # fmt: skip


async def test_a_node_killed_during_chat_loses_and_repeats_nothing(
    cluster: Cluster, steady: Steady
) -> None:
    """Six viewers chat through nginx; the node not holding any media is killed: its viewers
    resume on the other node with join.after, every acknowledged message reaches every viewer
    exactly once, the prober sees no failure, and the node is back in rotation by itself."""
    victim = cluster.nodes[0]
    assert victim is not steady.owner
    room, _ = await cluster.new_session("Chat under a node kill")
    victim_id = await victim.hub_id()
    clients = [traffic.ChatClient(f"viewer{i}", cluster.url, room, interval=0.3) for i in range(6)]
    async with (
        traffic.Prober(cluster.url, steady_probes(steady)) as prober,
        traffic.chatting(clients),
    ):
        await traffic.until_joined(clients)
        on_victim = [c for c in clients if c.nodes[0] == victim_id]
        assert on_victim, "no viewer reached the node to be killed: nginx did not balance"
        await asyncio.sleep(1.5)
        victim.kill()
        await asyncio.sleep(3.0)  # chat goes on through the survivor while the node is down
        await cluster.wait_healthy()
        await lands_on(cluster, victim)
        await asyncio.sleep(1.0)
        await traffic.chat_until_quiet(clients, settle=5.0)
    assert prober.failures == [], prober.report()
    assert traffic.chat_problems(clients) == []
    assert all(c.connections >= 2 for c in on_victim), [c.nodes for c in on_victim]
    assert sum(len(c.acked) for c in clients) > 60


async def test_a_node_killed_while_it_holds_a_publish(cluster: Cluster, steady: Steady) -> None:
    """A session published to node 1 loses its node: through nginx its HLS answers only
    Torget's own 503/404 (never nginx's 502) until the publisher reconnects to node 2, then
    plays again; everything else, the other session's HLS included, never fails."""
    victim = cluster.nodes[0]
    session_id, key = await cluster.new_session("Publish under a node kill")
    playlist = f"/hls/{session_id}/source.m3u8"
    own = [traffic.Probe("its own HLS", playlist + "?probe={n}")]
    async with publisher(victim.rtmp(key), size="640x360", gop=30) as first:
        await until_playing(cluster.url + playlist)
        tolerant = {"its own HLS": {503, 404}}
        async with (
            traffic.Prober(cluster.url, steady_probes(steady)) as prober,
            traffic.Prober(cluster.url, own, tolerated=tolerant) as moving,
        ):
            await asyncio.sleep(1.0)
            victim.kill()
            await asyncio.wait_for(first.wait(), 15)  # OBS notices its server is gone
            async with publisher(steady.owner.rtmp(key), size="640x360", gop=30):
                resumed = await until_playing(cluster.url + playlist, seconds=40)
                await cluster.wait_healthy()
                await lands_on(cluster, victim)
                async with traffic.Prober(cluster.url, own) as moved:
                    await asyncio.sleep(3.0)  # both nodes answer its HLS now
    print(f"HLS of the moved session played again {resumed:.1f} s after the publisher "
          f"reconnected; Torget answered {len(moving.tolerated_seen)} of its requests with "
          f"503/404 meanwhile")  # fmt: skip
    assert prober.failures == [], prober.report()
    assert moving.failures == [], moving.report()
    if moved.failures and all(o.detail == "torget" for o in moved.failures):
        pytest.xfail(
            "once the old owner is back, the moved session's HLS fails through it: "
            + moved.report().splitlines()[-1]
        )
    assert moved.failures == [], moved.report()
