"""A studio channel's stable HLS address with real media: playout lists an earlier session's
replay, then the live session follows on the same playlists after a discontinuity, and every
listed segment is served (stream copy: the sessions' own files)."""

from __future__ import annotations

from pathlib import Path

import m3u8  # type: ignore[import-untyped]
import pytest

from tests.support.media_stage import Stage, fetch, new_session, publisher, stage, state
from tests.support.media_tools import needs_ffmpeg
from tests.support.waiting import until

pytestmark = [pytest.mark.slow, needs_ffmpeg]


async def _channel(st: Stage, studio: str, name: str) -> m3u8.M3U8:
    """One of the channel's playlists, parsed (empty while nothing was on air: 404)."""
    answer = await st.app.client.get(f"/hls/c/{studio}/{name}")
    if answer.status == 404:
        return m3u8.loads("#EXTM3U\n")
    assert answer.status == 200, await answer.text()
    assert answer.headers["Content-Type"] == "application/vnd.apple.mpegurl"
    parsed = m3u8.loads(await answer.text())
    parsed.segments = m3u8.SegmentList(s for s in parsed.segments if s.uri)  # no open segment
    return parsed


async def test_playout_plays_a_replay_then_the_live_session_on_one_address(tmp_path: Path) -> None:
    """With playout on, the channel lists the replay's segments (video and audio, each served);
    when the next session goes live its segments follow after one discontinuity on both
    tracks, with no reload of the address; the multivariant stays the same two playlists."""
    async with stage(tmp_path, ladder=[]) as st:
        app = st.app
        first, first_key = await new_session(st, "Morning", hour=9)
        second, second_key = await new_session(st, "Noon", hour=12)
        async with publisher(st.rtmp(first_key), size="320x180", gop=15):

            async def ingest_ready() -> bool:
                return await state(st, first) == "ready"

            await until(ingest_ready, timeout=20, what="the first session's ingest")
            answer = await app.client.post(f"/api/v1/sessions/{first}/live", headers=app.admin)
            assert answer.status == 200

            async def aired() -> bool:
                return len((await _channel(st, st.studio, "source.m3u8")).segments) >= 4

            await until(aired, timeout=30, what="the live session on the channel")
            answer = await app.client.post(f"/api/v1/sessions/{first}/end", headers=app.admin)
            assert answer.status == 200

        async def replay() -> bool:
            return await state(st, first) == "replay"

        await until(replay, timeout=90, what="the first session's replay")
        answer = await app.client.patch(
            f"/api/v1/studios/{st.studio}", json={"playout": True}, headers=app.admin
        )
        assert answer.status == 200

        async def playing_out() -> bool:
            video = await _channel(st, st.studio, "source.m3u8")
            return any(s.uri.startswith(f"/hls/{first}/") for s in video.segments[-2:])

        await until(playing_out, timeout=20, what="playout of the replay")
        master = await _channel(st, st.studio, "index.m3u8")
        assert [p.uri for p in master.playlists] == ["source.m3u8"]
        assert [m.uri for m in master.media] == ["audio.m3u8"]
        audio = await _channel(st, st.studio, "audio.m3u8")
        for listed in (
            (await _channel(st, st.studio, "source.m3u8")).segments[-1],
            audio.segments[-1],
        ):
            await fetch(st, listed.uri)
            await fetch(st, listed.init_section.uri)

        async with publisher(st.rtmp(second_key), size="320x180", gop=15):

            async def second_ready() -> bool:
                return await state(st, second) == "ready"

            await until(second_ready, timeout=20, what="the second session's ingest")
            answer = await app.client.post(f"/api/v1/sessions/{second}/live", headers=app.admin)
            assert answer.status == 200

            async def switched() -> bool:
                video = await _channel(st, st.studio, "source.m3u8")
                return sum(str(s.uri).startswith(f"/hls/{second}/") for s in video.segments) >= 2

            await until(switched, timeout=30, what="the live session after the replay")
            for name in ("source.m3u8", "audio.m3u8"):
                track = await _channel(st, st.studio, name)
                sources = [s.uri.split("/")[2] for s in track.segments]
                switch = sources.index(second)
                assert set(sources[switch:]) == {second}, sources
                assert track.segments[switch].discontinuity, name
                if first in sources:
                    assert sources.index(first) < switch
                await fetch(st, track.segments[-1].uri)
            text = (await fetch(st, f"/hls/c/{st.studio}/source.m3u8"))[0].decode()
            assert '#EXT-X-PRELOAD-HINT:TYPE=PART,URI="/hls/' + second in text
