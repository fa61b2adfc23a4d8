"""End to end: stream keys, refused publishers, and a broadcast that survives its ingest."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import socket
from pathlib import Path

import pytest

from tests.support.media_stage import (
    Stage,
    fetch,
    live_edge,
    new_session,
    playlist,
    publish_args,
    publisher,
    stage,
    state,
    stop,
)
from tests.support.media_tools import needs_ffmpeg, probe
from tests.support.waiting import until
from web.keys import MEDIA

pytestmark = [pytest.mark.slow, needs_ffmpeg]


async def refused(url: str) -> str:
    """Publish to ``url`` and expect ffmpeg to give up quickly; return what it printed."""
    process = await asyncio.create_subprocess_exec(
        *publish_args(url, size="320x240"),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        _, err = await asyncio.wait_for(process.communicate(), 15)
    finally:
        await stop(process)
    assert process.returncode != 0
    return err.decode(errors="replace")


def garbage(port: int, first: bytes) -> bytes:
    """Send ``first`` and junk to the RTMP port; return what came back before it hung up."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(first + os.urandom(64))
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
        return received


async def run_listed(st: Stage, path: str, run: int) -> bool:
    """Whether the media playlist at ``path`` lists a complete segment of ffmpeg run ``run``."""
    text = (await fetch(st, path))[0].decode()
    return any(line.startswith(f"r{run:04d}_") for line in text.splitlines())


async def advancing(st: Stage, session_id: str) -> None:
    """Assert the session's source playlist gains parts (its publisher is undisturbed)."""
    before = live_edge(await playlist(st, f"/hls/{session_id}/source.m3u8"))
    msn, part = before
    after = await playlist(st, f"/hls/{session_id}/source.m3u8?_HLS_msn={msn}&_HLS_part={part + 2}")
    assert live_edge(after) > before


async def test_stream_keys_pick_the_session_and_bad_publishers_are_refused(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Two sessions publish at once, told apart by key; a wrong key, a second publisher on a
    session and junk bytes are refused without disturbing them, and no key reaches the log."""
    caplog.set_level(logging.INFO)
    async with stage(tmp_path, ladder=[]) as st:
        first, first_key = await new_session(st, "Panel", 9)
        second, second_key = await new_session(st, "Interview", 10)
        async with (
            publisher(st.rtmp(first_key)) as one,
            publisher(st.rtmp(second_key), size="640x360") as two,
        ):
            for session_id in (first, second):

                async def ready(session_id: str = session_id) -> bool:
                    return await state(st, session_id) == "ready"

                await until(ready, timeout=20, what=f"{session_id} to become ready")
            sizes = {}
            for session_id in (first, second):
                master = await playlist(st, f"/hls/{session_id}/index.m3u8")
                sizes[session_id] = [p.stream_info.resolution for p in master.playlists]
            assert sizes == {first: [(1280, 720)], second: [(640, 360)]}

            wrong = "sk_" + "x" * 43
            await refused(st.rtmp(wrong))
            await refused(f"rtmp://127.0.0.1:{st.port}/other/{first_key}")
            await refused(st.rtmp(first_key))  # the session already has a publisher
            assert await asyncio.to_thread(garbage, st.port, b"GET / HTTP/1.1\r\n") == b""
            handshake = b"\x03" + os.urandom(2 * 1536)
            reply = await asyncio.to_thread(garbage, st.port, handshake + b"\x44")
            assert len(reply) == 1 + 2 * 1536  # the handshake answer, then the server hung up

            assert one.returncode is None
            assert two.returncode is None
            await advancing(st, first)
            await advancing(st, second)
            assert await state(st, first) == "ready"
            st.remember_pids()
    for key in (wrong, first_key, second_key):
        assert key not in caplog.text
    assert "publish refused: unknown stream key" in caplog.text
    assert "already has a publisher" in caplog.text


async def test_a_live_broadcast_survives_ffmpeg_dying_and_the_ingest_dropping(
    tmp_path: Path,
) -> None:
    """While live: a killed ffmpeg is restarted and the playlist marks the discontinuity; a
    dropped ingest puts the slate on air in the same playlist until the publisher returns and
    the broadcast continues; ending the session disconnects the publisher and ends it all."""
    async with stage(tmp_path, ladder=[], max_gop=1.0) as st:
        session_id, key = await new_session(st, "Keynote", 9)
        hls = f"/hls/{session_id}"
        plane = st.app.web_app[MEDIA]
        async with publisher(st.rtmp(key), size="640x360", gop=15) as pub:

            async def ready() -> bool:
                found = plane.pipeline(session_id)
                return found is not None and found.ready.is_set()

            await until(ready, timeout=20, what="the first segments")
            assert await state(st, session_id) == "ready"
            answer = await st.app.client.post(
                f"/api/v1/sessions/{session_id}/live", headers=st.app.admin
            )
            assert answer.status == 200
            # Run 1 was the "starting soon" slate; going live started run 2, the ingest.
            pipeline = plane.pipeline(session_id)
            assert pipeline is not None
            first_pid = pipeline.pid
            assert first_pid is not None
            await advancing(st, session_id)
            os.kill(first_pid, signal.SIGKILL)

            async def second_run_listed() -> bool:
                return await run_listed(st, f"{hls}/source.m3u8", 3)

            await until(second_run_listed, timeout=20, what="segments of the restarted ffmpeg")
            assert pipeline.restarts == 1
            assert pipeline.pid not in (None, first_pid)
            text = (await fetch(st, f"{hls}/source.m3u8"))[0].decode()
            assert "#EXT-X-DISCONTINUITY\n" in text
            assert '#EXT-X-MAP:URI="r0003_0_init.mp4"' in text
            media = await playlist(st, f"{hls}/source.m3u8")
            cut = [s for s in media.segments if s.uri and s.uri.startswith("r0002_")][-1]
            init, _ = await fetch(st, f"{hls}/r0002_0_init.mp4")
            data, _ = await fetch(st, f"{hls}/{cut.uri}")  # the segment ffmpeg left unfinished
            joined = tmp_path / "cut.mp4"
            joined.write_bytes(init + data)
            assert probe(joined)["streams"][0]["codec_name"] == "h264"
            st.remember_pids()
            await stop(pub)

        async def slate_on_air() -> bool:
            return pipeline.slate_on and await run_listed(st, f"{hls}/source.m3u8", 4)

        await until(slate_on_air, timeout=20, what="the slate while the ingest is away")
        assert not plane.publishing(session_id)
        assert await state(st, session_id) == "live"
        held = await playlist(st, f"{hls}/source.m3u8")
        assert not held.is_endlist
        slate = next(s for s in held.segments if s.uri and s.uri.startswith("r0004_"))
        init, _ = await fetch(st, f"{hls}/r0004_0_init.mp4")
        data, _ = await fetch(st, f"{hls}/{slate.uri}")
        joined.write_bytes(init + data)
        [picture, *_] = probe(joined)["streams"]
        assert (picture["codec_name"], picture["width"], picture["height"]) == ("h264", 640, 360)
        assert "Keynote" in (st.media_dir / session_id / "slate.txt").read_text()
        msn, _ = live_edge(held)
        st.remember_pids()

        async with publisher(st.rtmp(key), size="640x360", gop=15) as back:

            async def resumed() -> bool:
                return pipeline.ingest_up and await run_listed(st, f"{hls}/source.m3u8", 5)

            await until(
                resumed, timeout=20, what="the broadcast to continue after the ingest came back"
            )
            assert plane.pipeline(session_id) is pipeline
            text = (await fetch(st, f"{hls}/source.m3u8"))[0].decode()
            assert text.count("#EXT-X-DISCONTINUITY\n") >= 2
            assert '#EXT-X-MAP:URI="r0005_0_init.mp4"' in text
            assert live_edge(await playlist(st, f"{hls}/source.m3u8"))[0] > msn
            assert not pipeline.slate_on
            st.remember_pids()

            answer = await st.app.client.post(
                f"/api/v1/sessions/{session_id}/end", headers=st.app.admin
            )
            assert answer.status == 200
            await asyncio.wait_for(back.wait(), 15)  # the server hung up on the publisher

        async def over() -> bool:
            return pipeline.ended and pipeline.pid is None and not pipeline.slate_on

        await until(over, timeout=20, what="the playlists to end with the session")
        assert (await playlist(st, f"{hls}/source.m3u8")).is_endlist


async def test_without_a_slate_a_dropped_ingest_holds_the_playlist_open(tmp_path: Path) -> None:
    """With the slate off, a live session that lost its ingest keeps its playlist open: a
    blocking reload for the next part times out with 503."""
    async with stage(tmp_path, ladder=[], max_gop=1.0, slate=False) as st:
        session_id, key = await new_session(st, "Workshop", 9)
        hls = f"/hls/{session_id}"
        plane = st.app.web_app[MEDIA]
        async with publisher(st.rtmp(key), size="320x240", gop=15):

            async def ready() -> bool:
                found = plane.pipeline(session_id)
                return found is not None and found.ready.is_set()

            await until(ready, timeout=20, what="the first segments")
            answer = await st.app.client.post(
                f"/api/v1/sessions/{session_id}/live", headers=st.app.admin
            )
            assert answer.status == 200
            st.remember_pids()
        pipeline = plane.pipeline(session_id)
        assert pipeline is not None

        async def dropped() -> bool:
            return pipeline is not None and not pipeline.ingest_up and pipeline.pid is None

        await until(dropped, timeout=20, what="the ingest to drop")
        # ffmpeg has exited; its last parts are read once more right after: wait until the
        # playlist stops growing before asking for the part after its end
        seen: list[str] = []

        async def settled() -> bool:
            answer = await st.app.client.get(f"{hls}/source.m3u8")
            seen.append(await answer.text())
            return len(seen) >= 3 and seen[-1] == seen[-2] == seen[-3]

        await until(settled, timeout=20, what="the playlist to settle")
        held = await playlist(st, f"{hls}/source.m3u8")
        assert not held.is_endlist
        assert not pipeline.slate_on
        msn, part = live_edge(held)
        body, _ = await fetch(st, f"{hls}/source.m3u8?_HLS_msn={msn}&_HLS_part={part + 1}", 503)
        assert json.loads(body)["error"]["code"] == "unavailable"
