"""Two Torget nodes sharing PostgreSQL and a real redis-server: one room across both nodes."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support import servers
from tests.support.harness import RunningApp, running_app, settings_for
from tests.support.realtime_client import WsClient

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


@dataclass
class Cluster:
    """Two running nodes, their Redis, the admin token and a session to use as the room."""

    a: RunningApp
    b: RunningApp
    redis: servers.RedisServer
    token: str
    room: str
    exits: contextlib.AsyncExitStack


@pytest.fixture
async def cluster(postgres_db_url: str, tmp_path: Path) -> AsyncIterator[Cluster]:
    """Start Redis and two nodes on one PostgreSQL database, and schedule a session."""
    if not servers.redis_installed():
        pytest.skip("redis-server not installed; make deps-system")
    redis = servers.RedisServer(port=servers.free_port(), data_dir=tmp_path)
    await asyncio.to_thread(redis.start)
    env = {"TORGET_REALTIME_ENGINE": "redis", "TORGET_REALTIME_REDIS_URL": redis.url,
           "TORGET_REALTIME_TICK_MS": "20"}  # fmt: skip
    async with contextlib.AsyncExitStack() as exits:
        a = await exits.enter_async_context(running_app(settings_for(postgres_db_url, **env)))
        b = await exits.enter_async_context(running_app(settings_for(postgres_db_url, **env)))
        studio = await a.client.post("/api/v1/studios", json={"name": "A"}, headers=a.admin)
        body = {"studio_id": (await studio.json())["id"], "title": "Panel",
                "starts_at": "2026-05-20T09:00:00Z", "ends_at": "2026-05-20T10:00:00Z"}  # fmt: skip
        session = await a.client.post("/api/v1/sessions", json=body, headers=a.admin)
        room = (await session.json())["id"]
        yield Cluster(a, b, redis, a.admin_token, room, exits)
    await asyncio.to_thread(redis.stop)


async def connect(node: RunningApp, token: str | None = None) -> WsClient:
    """A websocket client on ``node`` past its welcome."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    client = WsClient(await node.client.ws_connect("/ws", headers=headers))
    client.welcome = await client.next()
    return client


async def test_chat_and_votes_cross_nodes(cluster: Cluster) -> None:
    """A message sent on one node reaches the other; one viewer's votes count once overall;
    viewers are counted across nodes, the moderator apart."""
    on_a, on_b = await connect(cluster.a), await connect(cluster.b)
    mod = await connect(cluster.b, cluster.token)
    for client in (on_a, on_b, mod):
        await client.request("j", type="join", room=cluster.room)
    await on_a.request("m", type="chat.send", room=cluster.room, text="hej från A")
    assert (await on_b.event("chat.message"))["text"] == "hej från A"
    await on_b.request("q", type="qa.ask", room=cluster.room, text="Varför?")
    question = (await mod.event("qa.question"))["question"]
    await mod.request("a", type="qa.moderate", room=cluster.room, question_id=question["id"],
                      action="approve")  # fmt: skip
    await on_a.event("qa.question")
    await on_a.request("v", type="qa.vote", room=cluster.room, question_id=question["id"])
    latest = None
    while latest is None or latest["question"]["votes"] != 1:
        latest = await on_b.event("qa.question")
    # The moderator is staff: two viewers on both nodes, the staff connection counted apart.
    count_a = await on_a.until("viewers", timeout=5, count=2)
    count_b = await on_b.until("viewers", timeout=5, count=2)
    assert count_a["count"] == count_b["count"] == 2
    assert "staff" not in count_a
    assert (await mod.until("viewers", timeout=5, count=2))["staff"] == 1


async def test_resume_on_the_other_node_after_a_node_dies(cluster: Cluster) -> None:
    """A client of a node that stops resumes on the other node, missing and repeating nothing."""
    sender, listener = await connect(cluster.b), await connect(cluster.a)
    await sender.request("j", type="join", room=cluster.room)
    await listener.request("j", type="join", room=cluster.room)
    await sender.request("1", type="chat.send", room=cluster.room, text="one")
    last_seen = (await listener.event("chat.message"))["id"]
    await cluster.a.client.close()  # node A goes away with its clients
    for text in ("two", "three"):
        await sender.request(text, type="chat.send", room=cluster.room, text=text)
    moved = await connect(cluster.b)
    joined = await moved.request("r", type="join", room=cluster.room, after=last_seen)
    texts = [e["text"] for e in joined["events"]]
    # An ack means stored; the node may fold it a moment later: then it comes right after.
    while len(texts) < 2:
        texts.append((await moved.event("chat.message"))["text"])
    assert texts == ["two", "three"]
    await sender.request("4", type="chat.send", room=cluster.room, text="four")
    assert (await moved.event("chat.message"))["text"] == "four"
    assert moved.events == []


async def test_redis_restart_mid_session(cluster: Cluster) -> None:
    """Redis stops: clients get a notice and clear errors; it returns: history intact, chat on."""
    on_a, on_b = await connect(cluster.a), await connect(cluster.b)
    await on_a.request("j", type="join", room=cluster.room)
    await on_b.request("j", type="join", room=cluster.room)
    await on_a.request("m", type="chat.send", room=cluster.room, text="before")
    await on_b.event("chat.message")
    await asyncio.to_thread(cluster.redis.stop)
    notice = await on_a.until("notice", timeout=10)
    assert notice["code"] == "degraded"
    refused = await on_a.request("x", type="chat.send", room=cluster.room, text="during")
    assert (refused["type"], refused["code"]) == ("error", "unavailable")
    await asyncio.to_thread(cluster.redis.start)
    assert (await on_a.until("notice", timeout=15))["code"] == "restored"
    await on_b.until("notice", timeout=15, code="restored")
    await on_a.request("m2", type="chat.send", room=cluster.room, text="after")
    assert (await on_b.event("chat.message"))["text"] == "after"
    fresh = await connect(cluster.b)
    joined = await fresh.request("j", type="join", room=cluster.room)
    assert [e["text"] for e in joined["events"]] == ["before", "after"]


async def test_ended_session_is_archived_to_the_store(cluster: Cluster) -> None:
    """When a session ends its chat and questions are copied from Redis into PostgreSQL."""
    client = await connect(cluster.a)
    await client.request("j", type="join", room=cluster.room)
    await client.request("m", type="chat.send", room=cluster.room, text="arkiv")
    await client.request("q", type="qa.ask", room=cluster.room, text="Sparas detta?")
    ended = await cluster.a.client.post(
        f"/api/v1/sessions/{cluster.room}/end", headers=cluster.a.admin
    )
    assert ended.status == 200
    await asyncio.to_thread(cluster.redis.stop)
    report = await cluster.b.client.get(
        f"/api/v1/sessions/{cluster.room}/report", headers=cluster.a.admin
    )
    body = await report.json()
    assert (body["chat_messages"], body["questions"]) == (1, 1)
    await asyncio.to_thread(cluster.redis.start)


async def test_ended_sign_ins_close_sockets_on_the_other_node(cluster: Cluster) -> None:
    """A token revoked on node A closes its websockets on node B at once (4401), and a browser
    signed out on node A loses its websocket on node B; viewers on B keep chatting."""
    a, b = cluster.a, cluster.b
    made = await a.client.post("/api/v1/tokens", json={"role": "moderator", "name": "Mo"},
                               headers=a.admin)  # fmt: skip
    token = await made.json()
    mod_on_b, viewer_on_b = await connect(b, token["token"]), await connect(b)
    await mod_on_b.request("j", type="join", room=cluster.room)
    await viewer_on_b.request("j", type="join", room=cluster.room)
    login = await a.client.post("/api/v1/auth/login", json={"token": cluster.token})
    cookie, csrf = login.cookies["torget_session"].value, (await login.json())["csrf_token"]
    a.client.session.cookie_jar.clear()
    browser_on_b = WsClient(await b.client.ws_connect(
        "/ws", headers={"Cookie": f"torget_session={cookie}"}))  # fmt: skip
    assert (await browser_on_b.next())["role"] == "admin"
    revoked = await a.client.delete(f"/api/v1/tokens/{token['id']}", headers=a.admin)
    assert revoked.status == 204
    async with asyncio.timeout(3):
        await closed(mod_on_b)
    assert mod_on_b.closed_code == 4401
    signed_out = await a.client.post(
        "/api/v1/auth/logout", headers={"Cookie": f"torget_session={cookie}", "X-CSRF-Token": csrf}
    )
    assert signed_out.status == 204
    async with asyncio.timeout(3):
        await closed(browser_on_b)
    assert browser_on_b.closed_code == 4401
    ack = await viewer_on_b.request("m", type="chat.send", room=cluster.room, text="kvar")
    assert ack["type"] == "ack"


async def closed(client: WsClient) -> None:
    """Read until the server closes the connection."""
    with contextlib.suppress(ConnectionError):
        while True:
            await client.next(timeout=5)
