"""Redis and PostgreSQL fail under the running shape: chat stops cleanly and resumes by itself
when Redis returns, with nothing acknowledged lost; through a PostgreSQL restart only what needs
the store may answer Torget's own 503; the nodes are healthy again without a hand on them."""

from __future__ import annotations

import asyncio

import pytest

from tests.support import traffic
from tests.support.cluster import Cluster
from tests.support.cluster_tier import TIER, Steady, steady_probes

pytestmark = [*TIER, pytest.mark.timeout(240)]


@pytest.mark.parametrize("how", ["kill", "stop"])
async def test_chat_resumes_by_itself_after_redis_returns(
    cluster: Cluster, steady: Steady, how: str
) -> None:
    """Redis is killed (or stopped) for a few seconds during chat: viewers are told, their
    messages are refused meanwhile (not lost), chat goes on by itself once Redis is back,
    every message acknowledged before or after reaches every viewer once, and nothing else
    served through nginx fails."""
    room, _ = await cluster.new_session(f"Chat under a Redis {how}")
    clients = [traffic.ChatClient(f"viewer{i}", cluster.url, room, interval=0.3) for i in range(4)]
    async with (
        traffic.Prober(cluster.url, steady_probes(steady)) as prober,
        traffic.chatting(clients),
    ):
        await traffic.until_joined(clients)
        await asyncio.sleep(1.0)
        before = {c.name: len(c.acked) for c in clients}
        await asyncio.to_thread(cluster.redis.kill if how == "kill" else cluster.redis.stop)
        await asyncio.sleep(3.0)
        during = {c.name: len(c.acked) for c in clients}
        await asyncio.to_thread(cluster.redis.start)
        await asyncio.sleep(4.0)  # no client does anything special: they keep chatting
        await traffic.chat_until_quiet(clients, settle=5.0)
        await cluster.wait_healthy()
    assert prober.failures == [], prober.report()
    assert traffic.chat_problems(clients) == []
    assert all("degraded" in c.notices for c in clients), [c.notices for c in clients]
    assert all(c.refusals["unavailable"] for c in clients), [c.refusals for c in clients]
    after = {c.name: len(c.acked) for c in clients}
    assert all(after[name] > during[name] + 5 for name in after), (before, during, after)


async def test_a_postgresql_restart_fails_only_what_needs_the_store(
    cluster: Cluster, steady: Steady
) -> None:
    """PostgreSQL is down for three seconds: static files, websocket upgrades and another
    session's HLS never fail through nginx, the programme answers either 200 or Torget's own
    503 (never nginx's 502), and afterwards both nodes are healthy and chat works across them
    without anyone restarting anything."""
    async with traffic.Prober(cluster.url, steady_probes(steady)) as prober:
        await asyncio.sleep(1.0)
        with prober.tolerating("programme", 503):
            await asyncio.to_thread(cluster.postgres.shut_down, "fast")
            await asyncio.sleep(3.0)
            await asyncio.to_thread(cluster.postgres.start_again)
            await cluster.wait_healthy(timeout=30)
        await asyncio.sleep(2.0)
    room, _ = await cluster.new_session("Chat after a PostgreSQL restart")
    clients = [traffic.ChatClient(f"viewer{i}", cluster.url, room, interval=0.3) for i in range(4)]
    async with traffic.chatting(clients):
        await traffic.until_joined(clients)
        await traffic.chat_until_quiet(clients, settle=5.0)
    assert traffic.chat_problems(clients) == []
    assert len({c.nodes[0] for c in clients}) == 2, "chat did not reach both nodes"
    print(f"the programme answered Torget's 503 {len(prober.tolerated_seen)} times")
    assert [o for o in prober.failures if o.detail != "torget"] == [], prober.report()
    assert prober.failures == [], prober.report()
