"""Recordings and the "starting soon" slate, end to end with real ffmpeg publishing over RTMP:
the slate while ready, the broadcast after going live, the VOD replay and MP4 download after
the end, trimming, a failed build, and a restarted node serving the same replay."""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from config import Settings
from streaming import names
from streaming.ffmpeg_args import PipeInput, live_args
from streaming.ladder import SourceInfo, plan_ladder
from streaming.pipeline.supervisor import SessionPipeline
from streaming.recording import scan_recording
from streaming.vocab import InputFormat, MediaKind, OnAir, RunKind, VideoCodec
from streaming.vod import JOURNAL, JournalEntry, journal_line, parse_journal
from tests.support.harness import running_app, settings_for, sqlite_url
from tests.support.media_stage import (
    Stage,
    alive,
    fetch,
    new_session,
    playlist,
    publisher,
    state,
    stop,
)
from tests.support.media_tools import FFMPEG, needs_ffmpeg, probe
from tests.support.servers import free_port
from tests.support.waiting import until
from web.keys import MEDIA, SETTINGS

pytestmark = [pytest.mark.slow, needs_ffmpeg]


def media_settings(tmp_path: Path) -> Settings:
    """Settings with RTMP on a free port, media under ``tmp_path``, one rendition."""
    settings = settings_for(
        sqlite_url(tmp_path),
        TORGET_MEDIA_RTMP_PORT=str(free_port()),
        TORGET_MEDIA_DATA_DIR=str(tmp_path / "media"),
        TORGET_MEDIA_PRESET="ultrafast",
    )
    settings.media.ladder_heights = []
    settings.media.max_passthrough_gop = 1.0
    return settings


@contextlib.asynccontextmanager
async def staged(
    tmp_path: Path, settings: Settings, studio: str = "", admin_token: str = ""
) -> AsyncIterator[Stage]:
    """Run Torget with ``settings`` (creating a studio unless given one; a restarted app gets
    the first run's admin token); afterwards check that no ffmpeg it started is still running."""
    pids: set[int] = set()
    async with running_app(settings) as app:
        app.admin_token = admin_token or app.admin_token
        if not studio:
            answer = await app.client.post(
                "/api/v1/studios", json={"name": "Hall"}, headers=app.admin
            )
            assert answer.status == 201
            studio = (await answer.json())["id"]
        staged = Stage(app, settings.media.rtmp_port, tmp_path / "media", studio, pids)
        yield staged
        staged.remember_pids()
    for pid in pids:
        assert not alive(pid), f"ffmpeg {pid} outlived the app"


async def api(st: Stage, method: str, path: str, status: int, **kwargs: Any) -> Any:
    """Call the API as the admin; assert the status; return the JSON answer (or None)."""
    answer = await st.app.client.request(
        method, f"/api/v1/sessions/{path}", headers=st.app.admin, **kwargs
    )
    assert answer.status == status, await answer.text()
    return None if status == 204 else await answer.json()


def on_air_now(pipeline: SessionPipeline) -> OnAir:
    """What the pipeline has on air (read through a call, so checks are not narrowed away)."""
    return pipeline.on_air


def segment_uris(text: str) -> list[str]:
    """The segment URIs a media playlist lists."""
    return [line for line in text.splitlines() if line and not line.startswith("#")]


async def complete_segments(st: Stage, session_id: str, run: int) -> list[str]:
    """The complete source segments of ffmpeg run ``run`` the live playlist lists."""
    text = (await fetch(st, f"/hls/{session_id}/source.m3u8"))[0].decode()
    return [uri for uri in segment_uris(text) if uri.startswith(f"r{run:04d}_")]


async def segment_bytes(st: Stage, session_id: str, uri: str) -> int:
    """The size of a segment as served."""
    return len((await fetch(st, f"/hls/{session_id}/{uri}"))[0])


async def download(st: Stage, session_id: str, into: Path) -> dict[str, Any]:
    """Fetch the MP4 download into ``into`` and ffprobe it."""
    body, headers = await fetch(st, f"/api/v1/sessions/{session_id}/recording.mp4")
    assert headers["Content-Type"] == "video/mp4"
    await asyncio.to_thread(into.write_bytes, body)
    return await asyncio.to_thread(probe, into)


async def recording_ready(st: Stage, session_id: str) -> dict[str, Any]:
    """Wait until the recording's state is ready again (after a build or trim)."""
    found: dict[str, Any] = {}

    async def ready() -> bool:
        found.update(await api(st, "GET", f"{session_id}/recording", 200))
        assert found["state"] != "failed", found
        return bool(found["state"] == "ready")

    await until(ready, timeout=90, what="the recording to be ready")
    return found


async def test_starting_soon_then_live_then_a_trimmed_replay_that_survives_a_restart(
    tmp_path: Path,
) -> None:
    """While ready viewers get the "starting soon" slate; going live continues the playlist
    with the publisher's picture after a discontinuity; after the end the replay is a VOD
    playlist of every broadcast segment (a discontinuity where the publisher reconnected) and
    an MP4 as long as the broadcast (a live part asked for then is withdrawn); a trim changes
    both; a restarted node serves the same."""
    settings = media_settings(tmp_path)
    async with staged(tmp_path, settings) as st:
        session_id, key = await new_session(st, "Opening: innovative municipalities")
        hls = f"/hls/{session_id}"
        plane = st.app.web_app[MEDIA]
        async with publisher(st.rtmp(key), size="640x360", gop=15) as pub:

            async def slate_listed() -> bool:
                found = plane.pipeline(session_id)
                return (
                    found is not None
                    and found.ready.is_set()
                    and len(await complete_segments(st, session_id, 1)) >= 2
                )

            await until(slate_listed, timeout=20, what="the starting-soon slate in the playlist")
            pipeline = plane.pipeline(session_id)
            assert pipeline is not None
            assert await state(st, session_id) == "ready"
            assert pipeline.on_air is OnAir.STARTING_SOON
            assert pipeline.holding
            slate_text = (st.media_dir / session_id / "slate.txt").read_text()
            event = st.app.web_app[SETTINGS].event.name  # the branding's name closes the slate
            assert slate_text == f"Starting soon\nOpening: innovative municipalities\n\n{event}\n"
            master = await playlist(st, f"{hls}/index.m3u8")
            assert [p.stream_info.resolution for p in master.playlists] == [(640, 360)]
            slate_segment = (await complete_segments(st, session_id, 1))[-1]
            init, _ = await fetch(st, f"{hls}/r0001_0_init.mp4")
            data, _ = await fetch(st, f"{hls}/{slate_segment}")
            (tmp_path / "slate.mp4").write_bytes(init + data)
            [picture] = probe(tmp_path / "slate.mp4")["streams"]
            assert (picture["codec_name"], picture["width"], picture["height"]) == (
                "h264",
                640,
                360,
            )
            st.remember_pids()

            await api(st, "POST", f"{session_id}/live", 200)
            assert on_air_now(pipeline) is OnAir.INGEST
            assert not pipeline.holding

            async def live_listed() -> bool:
                return len(await complete_segments(st, session_id, 2)) >= 3

            await until(live_listed, timeout=20, what="the broadcast after going live")
            text = (await fetch(st, f"{hls}/source.m3u8"))[0].decode()
            assert '#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI="r0002_0_init.mp4"' in text
            # The still slate is far smaller than the moving test pattern.
            live_segment = (await complete_segments(st, session_id, 2))[1]
            assert 3 * await segment_bytes(st, session_id, slate_segment) < await segment_bytes(
                st, session_id, live_segment
            )
            st.remember_pids()
            await stop(pub)

        async def right_back() -> bool:
            return pipeline.on_air is OnAir.BE_RIGHT_BACK and bool(
                await complete_segments(st, session_id, 3)
            )

        await until(right_back, timeout=20, what="the right-back slate while the publisher is away")
        st.remember_pids()
        async with publisher(st.rtmp(key), size="640x360", gop=15):

            async def back() -> bool:
                return len(await complete_segments(st, session_id, 4)) >= 2

            await until(back, timeout=20, what="the broadcast after the publisher came back")
            st.remember_pids()
            await api(st, "POST", f"{session_id}/end", 200)

            async def replay() -> bool:
                return await state(st, session_id) == "replay"

            await until(replay, timeout=90, what="the replay to be published")

        journal = parse_journal((st.media_dir / session_id / JOURNAL).read_bytes())
        assert [journal[run].kind for run in sorted(journal)] == [
            RunKind.STARTING_SOON,
            RunKind.INGEST,
            RunKind.BE_RIGHT_BACK,
            RunKind.INGEST,
        ]
        # A live player's request for a part that never landed, come after the end, is told
        # the part is withdrawn (as the spec lets it step past), not that nothing is there.
        late = await st.app.client.get(f"{hls}/r0004_0_000999.0.m4s")
        assert late.status == 404
        assert (await late.json())["error"]["code"] == "part_withdrawn"
        # Each ingest run noted its clock (its segments' program date times in the replay).
        assert all(entry.clock_ms for entry in journal.values() if entry.kind is RunKind.INGEST)
        # The replay: every segment the two ingest runs wrote, none of the slates'.
        vod_text = (await fetch(st, f"{hls}/source.m3u8"))[0].decode()
        vod = await playlist(st, f"{hls}/source.m3u8")
        assert vod.playlist_type == "vod"
        assert vod.is_endlist
        assert "#EXT-X-PART" not in vod_text
        on_disk = sorted(
            p.name.removesuffix(".tmp")
            for p in (st.media_dir / session_id).iterdir()
            if p.name.startswith(("r0002_0_", "r0004_0_")) and ".m4s" in p.name
        )
        assert segment_uris(vod_text) == on_disk
        assert [s.discontinuity for s in vod.segments].count(True) == 1
        first_of_run_4 = next(i for i, s in enumerate(vod.segments) if s.uri.startswith("r0004"))
        assert vod.segments[first_of_run_4].discontinuity
        total = sum(s.duration for s in vod.segments)
        master = await playlist(st, f"{hls}/index.m3u8")
        assert [p.uri for p in master.playlists] == ["source.m3u8"]
        assert [m.uri for m in master.media if m.type == "AUDIO"] == ["audio.m3u8"]
        audio = await playlist(st, f"{hls}/audio.m3u8")
        assert audio.is_endlist
        # The segments play: a recorded one decodes after its init segment.
        init, _ = await fetch(st, f"{hls}/r0004_0_init.mp4")
        data, _ = await fetch(st, f"{hls}/{vod.segments[-1].uri}")
        (tmp_path / "last.mp4").write_bytes(init + data)
        assert probe(tmp_path / "last.mp4")["streams"][0]["codec_name"] == "h264"

        # A session id that is not one cannot reach a recording outside the media directory.
        manifest = (st.media_dir / session_id / "recording.json").read_bytes()
        (st.media_dir.parent / "recording.json").write_bytes(manifest)
        for path in ("/hls/%2E%2E/index.m3u8", "/hls/%2E%2E/source.m3u8", "/hls/../source.m3u8"):
            await fetch(st, path, 404)

        session = await api(st, "GET", session_id, 200)
        assert session["replay"]["hls"].endswith(f"/hls/{session_id}/index.m3u8")
        assert session["replay"]["mp4"].endswith(f"/api/v1/sessions/{session_id}/recording.mp4")
        status = await api(st, "GET", f"{session_id}/recording", 200)
        assert status["state"] == "ready"
        assert status["duration_seconds"] == pytest.approx(total, abs=0.01)
        info = await download(st, session_id, tmp_path / "whole.mp4")
        assert sorted(s["codec_name"] for s in info["streams"]) == ["aac", "h264"]
        assert float(info["format"]["duration"]) == pytest.approx(total, abs=0.5)

        # Bad trims are refused with the reason; nothing changes.
        for body, field, problem in (
            ({"start_seconds": -1}, "start_seconds", "must not be negative"),
            ({"start_seconds": 2, "end_seconds": 1}, "end_seconds", "must be after start_seconds"),
            (
                {"start_seconds": 0, "end_seconds": total + 60},
                "end_seconds",
                f"must be at most the recording's duration ({total:.2f} s)",
            ),
        ):
            answer = await api(st, "PUT", f"{session_id}/recording/trim", 422, json=body)
            assert answer["error"]["field"] == field
            assert answer["error"]["message"] == f"{field}: {problem}"
        assert (await fetch(st, f"{hls}/source.m3u8"))[0].decode() == vod_text

        # A trim: the playlist keeps the segments inside it, the MP4 is cut to it.
        start, end = 1.5, total - 1.5
        trimmed = await api(
            st,
            "PUT",
            f"{session_id}/recording/trim",
            200,
            json={"start_seconds": start, "end_seconds": end},
        )
        assert (trimmed["start_seconds"], trimmed["end_seconds"]) == (start, end)
        kept = await playlist(st, f"{hls}/source.m3u8")
        positions, at = [], 0.0
        for segment in vod.segments:
            positions.append((segment.uri, at, at + segment.duration))
            at += segment.duration
        assert [s.uri for s in kept.segments] == [
            uri for uri, begins, ends in positions if ends > start and begins < end
        ]
        status = await recording_ready(st, session_id)
        assert (status["start_seconds"], status["end_seconds"]) == (start, end)
        info = await download(st, session_id, tmp_path / "trimmed.mp4")
        assert float(info["format"]["duration"]) == pytest.approx(end - start, abs=0.3)
        trimmed_text = (await fetch(st, f"{hls}/source.m3u8"))[0].decode()

    # A restarted node serves the same replay and download.
    async with staged(tmp_path, settings, st.studio, st.app.admin_token) as again:
        assert await state(again, session_id) == "replay"
        assert (await fetch(again, f"{hls}/source.m3u8"))[0].decode() == trimmed_text
        await playlist(again, f"{hls}/index.m3u8")
        info = await download(again, session_id, tmp_path / "again.mp4")
        assert float(info["format"]["duration"]) == pytest.approx(end - start, abs=0.3)
        status = await api(again, "GET", f"{session_id}/recording", 200)
        assert status["state"] == "ready"


async def test_a_session_that_never_went_live_has_no_replay_and_says_why(tmp_path: Path) -> None:
    """A session whose publisher only ever fed the starting-soon slate records nothing: after
    the end it stays ended, its recording says why, and there is nothing to download."""
    settings = media_settings(tmp_path)
    async with staged(tmp_path, settings) as st:
        session_id, key = await new_session(st, "Rehearsal")
        plane = st.app.web_app[MEDIA]
        async with publisher(st.rtmp(key), size="320x240", gop=15):

            async def slate_listed() -> bool:
                found = plane.pipeline(session_id)
                return found is not None and found.ready.is_set()

            await until(slate_listed, timeout=20, what="the starting-soon slate")
            st.remember_pids()
            await api(st, "POST", f"{session_id}/end", 200)

            async def failed() -> bool:
                found = await api(st, "GET", f"{session_id}/recording", 200)
                return bool(found["state"] == "failed")

            await until(failed, timeout=60, what="the recording to fail")
        status = await api(st, "GET", f"{session_id}/recording", 200)
        assert status["message"] == (
            "the broadcast left no recorded media (it never went live here)"
        )
        assert status["replay"] is None
        assert await state(st, session_id) == "ended"
        body, _ = await fetch(st, f"/api/v1/sessions/{session_id}/recording.mp4", 404)
        assert json.loads(body)["error"]["message"] == "this session has no recording to download"
        answer = await api(st, "PUT", f"{session_id}/recording/trim", 409, json={})
        assert answer["error"]["message"] == (
            "the session is ended; only a published replay can be trimmed"
        )


def write_runs(directory: Path, runs: list[tuple[int, RunKind]], seconds: float = 3) -> None:
    """Have the pipeline's ffmpeg write ``runs`` of a 320x240 test pattern with sound into
    ``directory``, as a session would, with their journal."""
    assert FFMPEG is not None
    directory.mkdir(parents=True, exist_ok=True)
    plan = plan_ladder(SourceInfo(320, 240, 30.0, VideoCodec.H264, keyframe_interval=0.5))
    journal = b""
    for run, kind in runs:
        journal += journal_line(JournalEntry(run, kind, ("source", "audio")))
        args = live_args(plan, PipeInput(InputFormat.MPEGTS), str(directory), run, ffmpeg=FFMPEG)
        pattern = [
            FFMPEG, "-hide_banner", "-loglevel", "error",
            "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30",
            "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", str(seconds),
            "-c:v", "libx264", "-preset", "ultrafast", "-g", "15", "-c:a", "aac",
            "-f", "mpegts", "pipe:1",
        ]  # fmt: skip
        with subprocess.Popen(pattern, stdout=subprocess.PIPE) as feeder:
            subprocess.run(args, stdin=feeder.stdout, capture_output=True, check=True, timeout=60)
            assert feeder.wait(timeout=60) == 0
    (directory / JOURNAL).write_bytes(journal)


async def test_a_restarted_node_builds_the_recordings_left_over(tmp_path: Path) -> None:
    """A session that ended while its media was not there to record (the node went down) gets
    its replay built when the node starts again."""
    settings = media_settings(tmp_path)
    async with staged(tmp_path, settings) as st:
        session_id, _ = await new_session(st, "Night shift")
        await api(st, "POST", f"{session_id}/end", 200)
        status = await api(st, "GET", f"{session_id}/recording", 200)
        assert status["state"] == "none"
    await asyncio.to_thread(
        write_runs, tmp_path / "media" / session_id, [(1, RunKind.INGEST), (2, RunKind.INGEST)]
    )
    async with staged(tmp_path, settings, st.studio, st.app.admin_token) as again:

        async def replay() -> bool:
            return await state(again, session_id) == "replay"

        await until(replay, timeout=60, what="the left-over recording to be built")
        vod = await playlist(again, f"/hls/{session_id}/source.m3u8")
        assert vod.playlist_type == "vod"
        assert [s.discontinuity for s in vod.segments].count(True) == 1
        total = sum(s.duration for s in vod.segments)
        assert total == pytest.approx(6.0, abs=0.1)
        info = await download(again, session_id, tmp_path / "left-over.mp4")
        assert float(info["format"]["duration"]) == pytest.approx(total, abs=0.3)


def test_scan_finds_the_ingest_runs_and_a_segment_cut_short(tmp_path: Path) -> None:
    """From real ffmpeg output: slate runs (per the journal) are left out, each ingest run's
    segments are found with their durations, and a segment ffmpeg left as ``.tmp`` counts with
    its complete fragments only."""
    write_runs(tmp_path, [(1, RunKind.STARTING_SOON), (2, RunKind.INGEST), (3, RunKind.INGEST)])
    # ffmpeg was killed in the middle of run 3's last video segment: half of it is left.
    last = max(tmp_path.glob("r0003_0_*.m4s"))
    data = last.read_bytes()
    (tmp_path / f"{last.name}.tmp").write_bytes(data[: len(data) // 2])
    last.unlink()

    recording = scan_recording(tmp_path)
    assert [r.name for r in recording.renditions] == ["source", "audio"]
    assert recording.renditions[1].kind is MediaKind.AUDIO
    assert recording.runs == (2, 3)
    source = recording.video[0]
    assert source.codec.startswith("avc1.")
    assert (source.width, source.height) == (320, 240)
    run_2, run_3 = source.runs
    assert run_2.duration == pytest.approx(3.0, abs=0.05)
    assert run_3.segments[-1].uri == last.name
    assert run_3.segments[-1].length < len(data) // 2 + 1
    assert run_3.duration < run_2.duration
    assert names.parse_name(run_3.init).run == 3
    assert recording.audio is not None
    assert recording.audio.duration == pytest.approx(3.0 * 2, abs=0.2)
