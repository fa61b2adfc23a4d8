"""End to end: HLS and WebRTC viewers without a websocket are in the live viewer count."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from tests.support import servers
from tests.support.harness import RunningApp, running_app, settings_for
from tests.support.media_stage import Stage, new_session, publisher, stage, state
from tests.support.media_tools import needs_ffmpeg
from tests.support.realtime_client import WsClient
from tests.support.waiting import until
from tests.support.whep_viewer import relay_live, viewer
from web.keys import MEDIA, PLAYBACK, WHEP

pytestmark = [pytest.mark.slow, needs_ffmpeg]


async def connect(node: RunningApp) -> WsClient:
    """A websocket client on ``node`` past its welcome."""
    client = WsClient(await node.client.ws_connect("/ws"))
    client.welcome = await client.next()
    return client


@contextlib.asynccontextmanager
async def players(node: RunningApp, session_id: str, *who: tuple[str, str]) -> AsyncIterator[None]:
    """HLS players (User-Agent, query) reloading the session's media playlist twice a second
    until the block ends; any answer but 200 fails the test."""
    stop = asyncio.Event()

    async def play(agent: str, query: str) -> None:
        while not stop.is_set():
            path = f"/hls/{session_id}/source.m3u8{query}"
            async with node.client.get(path, headers={"User-Agent": agent}) as answer:
                assert answer.status == 200, await answer.text()
                await answer.read()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 0.5)

    tasks = [asyncio.create_task(play(agent, query)) for agent, query in who]
    try:
        yield
    finally:
        stop.set()
        await asyncio.gather(*tasks)


async def ready(st: Stage, session_id: str) -> Callable[[], Awaitable[bool]]:
    """A check that the session's ingest made it ready and its HLS has segments (asked of the
    media plane: an HTTP request would be a viewer)."""

    async def check() -> bool:
        pipeline = st.app.web_app[MEDIA].pipeline(session_id)
        media = pipeline is not None and pipeline.ready.is_set()
        return media and await state(st, session_id) == "ready"

    return check


async def test_hls_viewers_join_the_count_once_each_and_expire(tmp_path: Path) -> None:
    """Two HLS-only players and one player of a websocket viewer (``?v=`` its id) move the
    websocket viewers frame from 1 to 3; when they stop it falls back to 1, and the session's
    report keeps the peak and the unique viewers."""
    async with stage(tmp_path, ladder=[]) as st:
        session_id, key = await new_session(st, "Panel", 9)
        async with publisher(st.rtmp(key), size="320x240"):
            await until(await ready(st, session_id), timeout=20, what="the session to become ready")
            viewer = await connect(st.app)
            await viewer.request("j", type="join", room=session_id)
            await viewer.until("viewers", timeout=10, count=1)
            own = f"?v={viewer.welcome['viewer_id']}"
            async with players(
                st.app, session_id, ("Player A", ""), ("Player B", ""), ("Player C", own)
            ):
                await viewer.until("viewers", timeout=15, count=3)
            await viewer.until("viewers", timeout=20, count=1)
            report = await st.app.client.get(
                f"/api/v1/sessions/{session_id}/report", headers=st.app.admin
            )
            body = await report.json()
            assert (body["peak_viewers"], body["unique_viewers"]) == (3, 3)
            await viewer.ws.close()
            st.remember_pids()


async def test_a_webrtc_viewer_is_counted_while_connected(tmp_path: Path) -> None:
    """A real WHEP (aiortc) viewer moves the websocket viewers frame from 1 to 2 while its peer
    is up, and back to 1 once it DELETEs its resource; one that names the websocket's viewer id
    counts once with it."""
    async with stage(tmp_path, ladder=[]) as st:
        session_id, key = await new_session(st, "Panel", 9)
        async with publisher(st.rtmp(key), size="320x240"):
            await relay_live(st, session_id)
            watcher = await connect(st.app)
            await watcher.request("j", type="join", room=session_id)
            await watcher.until("viewers", timeout=10, count=1)
            async with viewer(st, session_id) as low_latency:
                await watcher.until("viewers", timeout=15, count=2)
                answer = await st.app.client.delete(low_latency.location)
                assert answer.status == 204
                await watcher.until("viewers", timeout=15, count=1)
            # The same person in the chat and on the low-latency player counts once.
            myself = f"?v={watcher.welcome['viewer_id']}"
            async with viewer(st, session_id, myself), viewer(st, session_id):
                await watcher.until("viewers", timeout=15, count=2)
                whep = st.app.web_app[WHEP]
                assert whep.viewers(session_id) == 2
                assert watcher.welcome["viewer_id"] in whep.viewer_ids(session_id)
            await watcher.ws.close()
            st.remember_pids()


@pytest.mark.postgres
async def test_two_nodes_agree_on_hls_and_webrtc_viewers(
    postgres_db_url: str, tmp_path: Path
) -> None:
    """With Redis, an HLS player of node A and a WebRTC viewer registered on node B are in the
    count that websocket viewers on both nodes see, and leave it when they go."""
    if not servers.redis_installed():
        pytest.skip("redis-server not installed; make deps-system")
    redis = servers.RedisServer(port=servers.free_port(), data_dir=tmp_path)
    await asyncio.to_thread(redis.start)
    rtmp_port = servers.free_port()
    env = {"TORGET_REALTIME_ENGINE": "redis", "TORGET_REALTIME_REDIS_URL": redis.url}
    try:
        async with contextlib.AsyncExitStack() as exits:
            a = await exits.enter_async_context(running_app(settings_for(
                postgres_db_url, TORGET_MEDIA_RTMP_PORT=str(rtmp_port),
                TORGET_MEDIA_DATA_DIR=str(tmp_path / "media"), TORGET_MEDIA_PRESET="ultrafast",
                **env)))  # fmt: skip
            b = await exits.enter_async_context(
                running_app(settings_for(postgres_db_url, TORGET_MEDIA_ENABLED="false", **env))
            )
            answer = await a.client.post("/api/v1/studios", json={"name": "Hall"}, headers=a.admin)
            st = Stage(a, rtmp_port, tmp_path / "media", (await answer.json())["id"], set())
            session_id, key = await new_session(st, "Debate", 9)
            async with publisher(st.rtmp(key), size="320x240"):
                await until(
                    await ready(st, session_id), timeout=20, what="the session to become ready"
                )
                on_a, on_b = await connect(a), await connect(b)
                for client in (on_a, on_b):
                    await client.request("j", type="join", room=session_id)
                for client in (on_a, on_b):
                    await client.until("viewers", timeout=10, count=2)
                async with players(a, session_id, ("Player A", "")):
                    b.web_app[PLAYBACK].joined(session_id, "vwr_webrtc0001")
                    for client in (on_a, on_b):
                        await client.until("viewers", timeout=15, count=4)
                    b.web_app[PLAYBACK].left(session_id, "vwr_webrtc0001")
                for client in (on_a, on_b):
                    await client.until("viewers", timeout=20, count=2)
                st.remember_pids()
    finally:
        await asyncio.to_thread(redis.stop)
