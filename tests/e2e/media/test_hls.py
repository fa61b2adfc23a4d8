"""End to end: ffmpeg publishes over RTMP, viewers get LL-HLS from the running app."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from streaming import names
from streaming.vocab import RunKind
from streaming.vod import JOURNAL, parse_journal
from tests.support.media_stage import (
    fetch,
    live_edge,
    new_session,
    playlist,
    publisher,
    stage,
    state,
    stop,
)
from tests.support.media_tools import needs_ffmpeg, probe
from tests.support.waiting import until
from web.keys import MEDIA

pytestmark = [pytest.mark.slow, needs_ffmpeg]


# --- the viewer's side -------------------------------------------------------------------------


async def test_viewers_get_ll_hls_of_an_rtmp_publish(tmp_path: Path) -> None:
    """A 720p30 publish makes the session ready and becomes a ladder of LL-HLS renditions
    (a media playlist asked for as it starts waits for it): spec-conforming playlists with
    parts, blocking reloads answered when the part lands, segments and parts that decode;
    stopping the publisher ends the playlists."""
    async with stage(tmp_path) as st:
        session_id, key = await new_session(st, "Opening: innovative municipalities")
        hls = f"/hls/{session_id}"
        await fetch(st, f"{hls}/index.m3u8", 404)
        async with publisher(st.rtmp(key)) as pub:
            started = time.monotonic()

            async def ready() -> bool:
                return await state(st, session_id) == "ready"

            await until(ready, timeout=20, what="the session to become ready")
            # Asked as the media starts, a media playlist waits for it rather than answer 404.
            assert (await playlist(st, f"{hls}/480p.m3u8")).segments
            master = await playlist(st, f"{hls}/index.m3u8")
            first_playable = time.monotonic() - started
            assert first_playable < 6, first_playable
            assert [p.uri for p in master.playlists] == ["source.m3u8", "480p.m3u8", "360p.m3u8"]
            assert [p.stream_info.resolution for p in master.playlists] == [
                (1280, 720),
                (854, 480),
                (640, 360),
            ]
            assert all(p.stream_info.codecs.endswith(",mp4a.40.2") for p in master.playlists)
            assert [m.uri for m in master.media] == ["subs-sv.m3u8", "subs-en.m3u8", "audio.m3u8"]

            media = await playlist(st, f"{hls}/480p.m3u8")
            assert media.server_control.can_block_reload == "YES"
            assert any(segment.parts for segment in media.segments)
            assert media.preload_hint.hint_type == "PART"
            _, headers = await fetch(st, f"{hls}/480p.m3u8")
            assert headers["Cache-Control"] == "no-cache"

            # Blocking reload: ask for the part after the last one listed.
            msn, part = live_edge(media)
            hinted = media.preload_hint.uri
            asked = time.monotonic()
            blocked = await playlist(st, f"{hls}/480p.m3u8?_HLS_msn={msn}&_HLS_part={part + 1}")
            waited = time.monotonic() - asked
            assert live_edge(blocked) >= (msn, part + 1) or live_edge(blocked)[0] > msn
            assert hinted in {p.uri for s in blocked.segments for p in s.parts}
            assert waited < 1.5, waited
            # The hinted part itself, asked for before it exists, is served when it lands.
            part_bytes, headers = await fetch(st, f"{hls}/{hinted}")
            assert part_bytes.startswith(b"\x00\x00")
            assert b"moof" in part_bytes[:64]
            assert headers["Content-Type"] == "video/mp4"
            assert "immutable" in headers["Cache-Control"]

            body, _ = await fetch(st, f"{hls}/480p.m3u8?_HLS_msn={msn + 10}", 400)
            assert json.loads(body)["error"]["code"] == "bad_request"
            await fetch(st, f"{hls}/480p.m3u8?_HLS_part=1", 400)

            # A whole segment and a lone part decode after the init segment.
            segment = next(s for s in media.segments if s.uri is not None)
            init, _ = await fetch(st, f"{hls}/{segment.init_section.uri}")
            data, _ = await fetch(st, f"{hls}/{segment.uri}")
            joined = tmp_path / "segment.mp4"
            joined.write_bytes(init + data)
            [stream] = probe(joined)["streams"]
            assert (stream["codec_name"], stream["width"], stream["height"]) == ("h264", 854, 480)
            first_part, _ = await fetch(st, f"{hls}/{segment.parts[0].uri}")
            assert data.startswith(first_part)
            alone = tmp_path / "part.mp4"
            alone.write_bytes(init + first_part)
            [stream] = probe(alone, "-count_frames")["streams"]
            assert stream["nb_read_frames"] == "6"

            audio = await playlist(st, f"{hls}/audio.m3u8")
            audio_segment = next(s for s in audio.segments if s.uri is not None)
            init, _ = await fetch(st, f"{hls}/{audio_segment.init_section.uri}")
            data, _ = await fetch(st, f"{hls}/{audio_segment.uri}")
            joined.write_bytes(init + data)
            [stream] = probe(joined)["streams"]
            assert stream["codec_name"] == "aac"

            # Names that are not ours never reach the disk.
            for path in (
                f"{hls}/..%2f..%2fetc%2fpasswd",
                f"{hls}/../x",
                f"{hls}/%2e%2e%2fsource.m3u8",
                f"{hls}/r0001.mpd",
                f"{hls}/{segment.uri}.tmp",
                f"{hls}/r0001_9_init.mp4",
                f"{hls}/1080p.m3u8",
                f"{hls}/r01_0_000001.m4s",
                "/hls/ses_nope/index.m3u8",
                "/hls/ses_nope/source.m3u8",
                "/hls/..%2f..%2fetc/passwd",
            ):
                body, headers = await fetch(st, path, 404)
                assert headers["Content-Type"].startswith("application/json"), path
                assert json.loads(body)["error"]["code"] == "not_found"

            st.remember_pids()
            await stop(pub)

            async def back_to_scheduled() -> bool:
                return await state(st, session_id) == "scheduled"

            await until(
                back_to_scheduled, timeout=20, what="ingest_down after the publisher stopped"
            )
            pipeline = st.app.web_app[MEDIA].pipeline(session_id)
            assert pipeline is not None

            async def ended() -> bool:
                return pipeline.ended

            await until(ended, timeout=20, what="the playlists to end")
            final = await playlist(st, f"{hls}/source.m3u8")
            assert final.is_endlist
            assert final.preload_hint is None
            _, headers = await fetch(st, f"{hls}/source.m3u8")
            assert headers["Cache-Control"] == "public, max-age=60"
            # A blocking request on an ended playlist is answered at once.
            edge = live_edge(final)
            await fetch(st, f"{hls}/source.m3u8?_HLS_msn={edge[0] + 1}&_HLS_part=0")
            assert pipeline.pid is None


async def test_a_segments_program_date_time_is_when_its_picture_was_taken_in(
    tmp_path: Path,
) -> None:
    """The source is probed until its second keyframe (2 s here) before ffmpeg gets its first
    pictures: the first segment is still stamped with the moment its first picture came in,
    well before that second keyframe (captions and picture-timed events go by it)."""
    async with stage(tmp_path, ladder=[], slate=False) as st:
        session_id, key = await new_session(st, "Opening: innovative municipalities")
        launched = datetime.now(UTC)
        async with publisher(st.rtmp(key), size="640x360", gop=60):

            async def media_up() -> bool:
                answer = await st.app.client.get(f"/hls/{session_id}/index.m3u8")
                return answer.status == 200

            await until(media_up, timeout=20, what="the session's media", interval=0.1)
            media = await playlist(st, f"/hls/{session_id}/source.m3u8")
            stamped = media.segments[0].program_date_time
            assert stamped is not None
            assert timedelta(0) <= stamped - launched < timedelta(seconds=1.2), stamped - launched


@pytest.mark.parametrize(("gop", "target", "runs"), [(30, 1, 1), (60, 2, 2)])
async def test_a_source_going_on_air_is_planned_early_and_started_over_when_its_keyframes_differ(
    tmp_path: Path, gop: int, target: int, runs: int
) -> None:
    """ffmpeg starts a moment after the first keyframe, keyframes assumed a second apart: a
    source that has them so keeps its one run; one with keyframes two seconds apart starts over
    at its second keyframe in a run planned for them (its first run dropped unfinished), and
    plays from there."""
    async with stage(tmp_path, ladder=[], slate=False) as st:
        session_id, key = await new_session(st, "Opening: innovative municipalities")
        async with publisher(st.rtmp(key), size="640x360", gop=gop):

            async def segments_listed() -> bool:
                answer = await st.app.client.get(f"/hls/{session_id}/source.m3u8")
                return answer.status == 200 and "#EXTINF" in await answer.text()

            await until(segments_listed, timeout=20, what="a complete segment", interval=0.1)
            media = await playlist(st, f"/hls/{session_id}/source.m3u8")
            journal = parse_journal((st.media_dir / session_id / JOURNAL).read_bytes())
        assert media.target_duration == target
        assert [entry.kind for entry in journal.values()] == [RunKind.INGEST] * runs
        last = max(journal)
        assert {names.parse_name(str(s.uri)).run for s in media.segments if s.uri} == {last}
        body, _ = await fetch(st, f"/hls/{session_id}/{media.segments[0].uri}")
        assert body  # the listed segment is there to play
