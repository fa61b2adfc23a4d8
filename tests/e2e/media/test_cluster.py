"""Two real nodes (PostgreSQL, Redis): the node that takes a session's publish owns its media,
the other forwards HLS, WHEP, health and the replay to it, and session changes made on the
other node reach the owner's media."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import m3u8  # type: ignore[import-untyped]
import pytest
from aiohttp.test_utils import TestClient, TestServer

from config import Settings
from streaming.ownership import NODE_HEADER, PROXIED_HEADER
from streaming.vocab import OnAir
from tests.support import servers
from tests.support.harness import FakeClock, RunningApp, settings_for
from tests.support.media_stage import (
    PLAYLIST_TYPE,
    Stage,
    fetch,
    live_edge,
    new_session,
    playlist,
    publisher,
    state,
)
from tests.support.media_tools import needs_ffmpeg, probe
from tests.support.waiting import until
from tests.support.whep_viewer import viewer
from tests.support.whip_publisher import offer_for, whip_post
from web.keys import HUB, MEDIA, PLAYBACK, PROGRAMME, WHEP
from web.media import proxy as media_proxy
from web.media.proxy import UNREACHABLE

pytestmark = [pytest.mark.slow, pytest.mark.postgres, needs_ffmpeg]


@contextlib.asynccontextmanager
async def node(settings: Settings) -> AsyncIterator[RunningApp]:
    """Run the real application on the port its ``node_url`` names."""
    from web.app import create_app

    printed: list[str] = []
    clock = FakeClock()
    app = create_app(settings, clock=clock, announce=printed.append)
    server = TestServer(app, host="127.0.0.1", port=settings.server.port)
    async with TestClient(server) as client:
        lines = (line.strip() for text in printed for line in text.splitlines())
        token = next((line for line in lines if line.startswith("tgt_")), "")
        yield RunningApp(client=client, web_app=app, admin_token=token, clock=clock)


def node_settings(db_url: str, redis_url: str, media_dir: Path) -> Settings:
    """A node with its own HTTP and RTMP ports, its own media directory, one rendition."""
    port = servers.free_port()
    settings = settings_for(
        db_url,
        TORGET_REALTIME_ENGINE="redis",
        TORGET_REALTIME_REDIS_URL=redis_url,
        TORGET_SERVER_PORT=str(port),
        TORGET_SERVER_NODE_URL=f"http://127.0.0.1:{port}",
        TORGET_MEDIA_RTMP_PORT=str(servers.free_port()),
        TORGET_MEDIA_DATA_DIR=str(media_dir),
        TORGET_MEDIA_PRESET="ultrafast",
    )
    settings.media.ladder_heights = []
    settings.media.max_passthrough_gop = 1.0
    return settings


async def call(st: Stage, method: str, path: str, status: int, **kwargs: Any) -> Any:
    """Call the API of the stage's node as the admin; assert the status; return the answer."""
    answer = await st.app.client.request(method, path, headers=st.app.admin, **kwargs)
    assert answer.status == status, await answer.text()
    return answer


@pytest.mark.timeout(300)
async def test_the_other_node_serves_and_steers_the_owners_media(
    postgres_db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An RTMP publish to node A is played through node B (playlists, a blocking reload, a
    segment, WebRTC), goes live and ends through B, and its replay and MP4 are served by B;
    once A is gone B says so with a 503."""
    if not servers.redis_installed():
        pytest.skip("redis-server not installed; make deps-system")
    # Answers over 4 KiB (segments, the MP4) are streamed through B, playlists buffered.
    monkeypatch.setattr(media_proxy, "BUFFER_LIMIT", 4096)
    redis = servers.RedisServer(port=servers.free_port(), data_dir=tmp_path)
    await asyncio.to_thread(redis.start)
    try:
        a_settings = node_settings(postgres_db_url, redis.url, tmp_path / "media-a")
        b_settings = node_settings(postgres_db_url, redis.url, tmp_path / "media-b")
        async with node(b_settings) as b:
            await _with_owner(a_settings, b, tmp_path)
    finally:
        await asyncio.to_thread(redis.stop)


async def _with_owner(a_settings: Settings, b: RunningApp, tmp_path: Path) -> None:
    pids: set[int] = set()
    async with node(a_settings) as a:
        a.admin_token = b.admin_token
        answer = await call(Stage(a, 0, tmp_path, "", pids), "POST", "/api/v1/studios", 201,
                            json={"name": "Hall"})  # fmt: skip
        studio = (await answer.json())["id"]
        on_a = Stage(a, a_settings.media.rtmp_port, tmp_path / "media-a", studio, pids)
        on_b = Stage(b, 0, tmp_path / "media-b", studio, pids)
        session_id, key = await new_session(on_a, "Harbour plans")
        hls = f"/hls/{session_id}"
        async with publisher(on_a.rtmp(key), size="640x360", gop=15) as pub:
            # The publish claims the session for A; B forwards its viewers there.
            async def served_by_b() -> bool:
                answer = await b.client.get(f"{hls}/index.m3u8")
                return answer.status == 200 and answer.headers.get(NODE_HEADER) == (
                    a_settings.node_url
                )

            await until(served_by_b, timeout=40, what="node B to forward the playlist to node A")
            pipeline = a.web_app[MEDIA].pipeline(session_id)
            assert pipeline is not None
            assert pipeline.holding  # ready: the "starting soon" slate
            assert b.web_app[MEDIA].pipeline(session_id) is None
            owner = await a.web_app[PROGRAMME].store.media_owner(session_id)
            assert owner is not None
            assert (owner.node_url, owner.node_id) == (a_settings.node_url, a.web_app[HUB].node_id)
            # A request already forwarded once is answered where it lands: nothing loops.
            marked = await b.client.get(f"{hls}/index.m3u8", headers={PROXIED_HEADER: "1"})
            assert marked.status == 404
            assert NODE_HEADER not in marked.headers
            assert (await marked.json())["error"]["message"] == "this session has no live media"

            # Going live through B puts A's held ingest on air.
            await call(on_b, "POST", f"/api/v1/sessions/{session_id}/live", 200)

            async def on_air() -> bool:
                return pipeline.on_air is OnAir.INGEST

            await until(on_air, timeout=20, what="node A to put the ingest on air")

            master = await playlist(on_b, f"{hls}/index.m3u8")
            assert [p.stream_info.resolution for p in master.playlists] == [(640, 360)]
            media = await playlist(on_b, f"{hls}/source.m3u8")
            msn, part = live_edge(media)
            # A blocking reload for the part after the live edge returns once A has it.
            reload = f"{hls}/source.m3u8?_HLS_msn={msn}&_HLS_part={part + 1}"
            body, headers = await fetch(on_b, reload)
            assert headers["Content-Type"] == PLAYLIST_TYPE
            assert headers["Cache-Control"] == "public, max-age=30"
            assert headers[NODE_HEADER] == a_settings.node_url
            newer = m3u8.loads(body.decode())
            assert live_edge(newer) > live_edge(media)
            complete = [s.uri for s in media.segments if s.uri]
            init, _ = await fetch(on_b, f"{hls}/{media.segment_map[0].uri}")
            segment, seg_headers = await fetch(on_b, f"{hls}/{complete[-1]}")
            assert (
                seg_headers["Cache-Control"]
                == (await fetch(on_a, f"{hls}/{complete[-1]}"))[1]["Cache-Control"]
            )
            (tmp_path / "live.mp4").write_bytes(init + segment)
            streams = probe(tmp_path / "live.mp4")["streams"]
            video = next(s for s in streams if s["codec_type"] == "video")
            assert (video["codec_name"], video["width"], video["height"]) == ("h264", 640, 360)

            # HLS viewers through B are counted by A, the node that serves them.
            await fetch(on_b, f"{hls}/source.m3u8?v=vwr_through_b01")
            viewers = a.web_app[PLAYBACK]
            assert "vwr_through_b01" in viewers.tracker.present(session_id, viewers.clock())

            # A WHIP publish sent to B reaches A, which already has the RTMP publisher.
            pc = await offer_for()
            try:
                status, headers, refusal = await whip_post(
                    on_b, session_id, key, pc.localDescription.sdp
                )
            finally:
                await pc.close()
            assert status == 409, refusal
            assert json.loads(refusal)["error"]["message"] == (
                f"session {session_id} already has a publisher "
                "(send X-Torget-Takeover: 1 to replace it)"
            )
            assert headers[NODE_HEADER]
            assert not b.web_app[MEDIA].publishing(session_id)

            # Ingest health through B is A's.
            answer = await call(on_b, "GET", f"/api/v1/sessions/{session_id}/health", 200)
            health = await answer.json()
            assert health["connected"] is True
            assert health["source"]["width"] == 640

            # WebRTC through B: the offer is answered by A, the viewer decodes A's frames.
            async def relay_ready() -> bool:
                relay = a.web_app[WHEP].hub.get(session_id)
                return relay is not None and relay.has_picture

            await until(relay_ready, timeout=30, what="node A's relay to have a picture")
            async with viewer(on_b, session_id) as watcher:
                assert watcher.location.startswith(f"/whep/{session_id}/")
                assert a.web_app[WHEP].viewers(session_id) == 1
                assert b.web_app[WHEP].viewers(session_id) == 0

                async def decoding() -> bool:
                    return len(watcher.sizes) >= 10

                await until(decoding, timeout=40, what="the viewer to decode frames through node B")
                assert set(watcher.sizes) == {(640, 360)}
                await call(on_b, "DELETE", watcher.location, 204)
                assert a.web_app[WHEP].viewers(session_id) == 0

            # Ending through B stops A's publisher and pipeline; A builds the replay.
            on_a.remember_pids()
            await call(on_b, "POST", f"/api/v1/sessions/{session_id}/end", 200)
            await asyncio.wait_for(pub.wait(), 30)

            async def replay() -> bool:
                return await state(on_b, session_id) == "replay"

            await until(replay, timeout=90, what="the replay to be built on node A")
            assert pipeline.ended
        vod = await playlist(on_b, f"{hls}/source.m3u8")
        assert vod.is_endlist
        assert vod.playlist_type == "vod"
        assert (tmp_path / "media-a" / session_id / "recording.json").is_file()
        assert not (tmp_path / "media-b" / session_id).exists()
        mp4_path = f"/api/v1/sessions/{session_id}/recording.mp4"
        whole, mp4_headers = await fetch(on_b, mp4_path)
        assert mp4_headers["Content-Type"] == "video/mp4"
        assert mp4_headers[NODE_HEADER] == a_settings.node_url
        (tmp_path / "replay.mp4").write_bytes(whole)
        replay_streams = probe(tmp_path / "replay.mp4")["streams"]
        assert {s["codec_name"] for s in replay_streams} == {"h264", "aac"}
        async with b.client.get(mp4_path, headers={"Range": "bytes=0-99"}) as ranged:
            assert ranged.status == 206
            assert ranged.headers["Content-Range"] == f"bytes 0-99/{len(whole)}"
            assert await ranged.read() == whole[:100]
    # Node A is gone: B cannot reach the owner it still knows of.
    answer = await b.client.get(f"{hls}/index.m3u8")
    assert answer.status == 503
    error = (await answer.json())["error"]
    assert (error["code"], error["message"]) == ("unavailable", UNREACHABLE)
