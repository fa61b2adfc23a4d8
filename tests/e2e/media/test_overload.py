"""End to end: a node that cannot keep up with its ladder drops lower renditions, the source
goes on, and ingest health and the metrics say so."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.support.media_stage import fetch, live_edge, new_session, playlist, publisher, stage
from tests.support.media_tools import needs_ffmpeg
from tests.support.waiting import until

pytestmark = [pytest.mark.slow, needs_ffmpeg]


async def _pipeline_health(st: Any, session_id: str) -> dict[str, Any]:
    answer = await st.app.client.get(f"/api/v1/sessions/{session_id}/health", headers=st.app.admin)
    assert answer.status == 200, await answer.text()
    found: dict[str, Any] = (await answer.json())["pipeline"] or {}
    return found


async def test_an_overloaded_node_drops_the_costliest_rung_and_keeps_the_source(
    tmp_path: Path,
) -> None:
    """With a speed ffmpeg can never reach (2x real time) the node counts as overloaded: 480p
    goes first, then 360p; the multivariant playlist stops offering them, their playlists
    answer 404, the source playlist goes on with parts of the new runs, and health and
    metrics name what was dropped."""
    async with stage(tmp_path, slate=False, overload_min_speed=2.0) as st:
        session_id, key = await new_session(st, "Overloaded")
        hls = f"/hls/{session_id}"
        async with publisher(st.rtmp(key)):

            async def dropped_480p() -> bool:
                return (await _pipeline_health(st, session_id)).get("dropped_renditions") == [
                    "480p"
                ]

            await until(dropped_480p, timeout=40, what="480p dropped for overload")
            health = await _pipeline_health(st, session_id)
            assert health["ladder_speed"] is None or health["ladder_speed"] < 2.0
            metrics = await (await st.app.client.get("/metrics")).text()
            assert f'torget_ladder_dropped_renditions{{session="{session_id}"}} 1.0' in metrics

            async def offered() -> list[str]:
                master = await playlist(st, f"{hls}/index.m3u8")
                return [p.uri for p in master.playlists]

            assert await offered() == ["source.m3u8", "360p.m3u8"]
            await fetch(st, f"{hls}/480p.m3u8", 404)

            # 360p now comes from output stream 1 of the new run: its files are listed and
            # served under their own names, with the new run's init segment.
            async def lower_from_new_run() -> bool:
                media = await playlist(st, f"{hls}/360p.m3u8")
                return any(s.uri and "_1_" in s.uri for s in media.segments)

            await until(lower_from_new_run, timeout=20, what="360p parts of the new run")
            media = await playlist(st, f"{hls}/360p.m3u8")
            newest = media.segments[-1]
            assert "_1_" in newest.init_section.uri
            await fetch(st, f"{hls}/{newest.init_section.uri}")
            source_edge = live_edge(await playlist(st, f"{hls}/source.m3u8"))

            async def dropped_both() -> bool:
                found = await _pipeline_health(st, session_id)
                return found.get("dropped_renditions") == ["480p", "360p"]

            await until(dropped_both, timeout=40, what="360p dropped as well")
            assert await offered() == ["source.m3u8"]
            await fetch(st, f"{hls}/360p.m3u8", 404)

            async def source_goes_on() -> bool:
                return live_edge(await playlist(st, f"{hls}/source.m3u8")) > source_edge

            await until(source_goes_on, timeout=10, what="the source rendition to go on")
            source = await playlist(st, f"{hls}/source.m3u8")
            assert any(segment.discontinuity for segment in source.segments)
