"""End to end: a node that cannot keep up with its ladder drops lower renditions, the source
goes on, and ingest health and the metrics say so."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
from pathlib import Path
from typing import Any

import pytest

from tests.support.media_stage import fetch, live_edge, new_session, playlist, publisher, stage
from tests.support.media_tools import needs_ffmpeg
from tests.support.waiting import until
from web.keys import MEDIA

pytestmark = [pytest.mark.slow, needs_ffmpeg]


async def _pipeline_health(st: Any, session_id: str) -> dict[str, Any]:
    answer = await st.app.client.get(f"/api/v1/sessions/{session_id}/health", headers=st.app.admin)
    assert answer.status == 200, await answer.text()
    found: dict[str, Any] = (await answer.json())["pipeline"] or {}
    return found


async def _starve(st: Any, session_id: str, stop: asyncio.Event) -> None:
    """Give the session's ffmpeg a twentieth of the time (SIGSTOP 0.95 s, SIGCONT 0.05 s), as a
    machine with too little CPU for its ladder would, until ``stop`` (a tenth was enough for a
    240p rung alone on a fast CPU)."""
    pipeline = st.app.web_app[MEDIA].pipeline(session_id)
    try:
        while not stop.is_set():
            pid = pipeline.pid if pipeline is not None else None
            if pid is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGSTOP)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), 0.95)
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGCONT)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 0.05)
            pipeline = st.app.web_app[MEDIA].pipeline(session_id)
    finally:
        if pipeline is not None and pipeline.pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pipeline.pid, signal.SIGCONT)


async def test_an_overloaded_node_drops_the_costliest_rung_and_keeps_the_source(
    tmp_path: Path,
) -> None:
    """An ffmpeg given a twentieth of the CPU time it needs falls behind and backs its input up:
    480p goes first, then 360p; the multivariant playlist stops offering them, their
    playlists answer 404 ``rendition_dropped``, the source playlist goes on with parts of the
    new runs once the CPU is back, and health and metrics name what was dropped."""
    async with stage(tmp_path, slate=False) as st:
        session_id, key = await new_session(st, "Overloaded")
        hls = f"/hls/{session_id}"
        async with publisher(st.rtmp(key)):

            def ready() -> bool:
                pipeline = st.app.web_app[MEDIA].pipeline(session_id)
                return pipeline is not None and pipeline.ready.is_set()

            await until(ready, timeout=30, what="the session's playlists")
            stop = asyncio.Event()
            starving = asyncio.create_task(_starve(st, session_id, stop))
            try:

                async def dropped_480p() -> bool:
                    found = await _pipeline_health(st, session_id)
                    return found.get("dropped_renditions") == ["480p"]

                await until(dropped_480p, timeout=60, what="480p dropped for overload")
                metrics = await (await st.app.client.get("/metrics")).text()
                assert f'torget_ladder_dropped_renditions{{session="{session_id}"}} 1.0' in metrics
                master = await playlist(st, f"{hls}/index.m3u8")
                assert [p.uri for p in master.playlists] == ["source.m3u8", "360p.m3u8"]
                body, _ = await fetch(st, f"{hls}/480p.m3u8", 404)
                assert json.loads(body)["error"]["code"] == "rendition_dropped"
                body, _ = await fetch(st, f"{hls}/480p.m3u8?_HLS_msn=1&_HLS_part=0", 404)
                assert json.loads(body)["error"]["code"] == "rendition_dropped"

                async def slow_reported() -> bool:
                    # A run reports its speed once ffmpeg has written a whole window's worth.
                    speed = (await _pipeline_health(st, session_id)).get("ladder_speed")
                    return speed is not None and speed < 0.9

                await until(slow_reported, timeout=30, what="the ladder's speed below 0.9")

                async def dropped_both() -> bool:
                    found = await _pipeline_health(st, session_id)
                    return found.get("dropped_renditions") == ["480p", "360p"]

                await until(dropped_both, timeout=60, what="360p dropped as well")
            finally:
                stop.set()
                await starving
            master = await playlist(st, f"{hls}/index.m3u8")
            assert [p.uri for p in master.playlists] == ["source.m3u8"]
            body, _ = await fetch(st, f"{hls}/360p.m3u8", 404)
            assert json.loads(body)["error"]["code"] == "rendition_dropped"
            body, _ = await fetch(st, f"{hls}/1080p.m3u8", 404)
            assert json.loads(body)["error"]["code"] == "not_found"

            # The audio (rendition 3) is output stream 1 of the newest run: its files are
            # listed and served under their own names, with that run's init segment.
            async def audio_from_stream_1() -> bool:
                media = await playlist(st, f"{hls}/audio.m3u8")
                return any(s.uri and "_1_" in s.uri for s in media.segments)

            await until(audio_from_stream_1, timeout=30, what="audio parts of the new run")
            media = await playlist(st, f"{hls}/audio.m3u8")
            first = next(s for s in media.segments if s.uri and "_1_" in s.uri)
            assert first.init_section is not None
            assert "_1_" in first.init_section.uri
            await fetch(st, f"{hls}/{first.init_section.uri}")
            await fetch(st, f"{hls}/{first.uri}")
            source_edge = live_edge(await playlist(st, f"{hls}/source.m3u8"))

            async def source_goes_on() -> bool:
                return live_edge(await playlist(st, f"{hls}/source.m3u8")) > source_edge

            await until(source_goes_on, timeout=10, what="the source rendition to go on")
            source = await playlist(st, f"{hls}/source.m3u8")
            assert any(segment.discontinuity for segment in source.segments)
