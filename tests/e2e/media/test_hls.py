"""End to end: ffmpeg publishes over RTMP, viewers get LL-HLS from the running app."""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import m3u8  # type: ignore[import-untyped]
import pytest
from yarl import URL

from tests.support.harness import RunningApp, running_app, settings_for, sqlite_url
from tests.support.media_tools import FFPROBE, probe
from tests.support.servers import free_port
from tests.support.waiting import until
from tests.unit.streaming.test_llhls import check_media_playlist
from web.keys import MEDIA

FFMPEG = shutil.which("ffmpeg")
PLAYLIST_TYPE = "application/vnd.apple.mpegurl"
needs_ffmpeg = pytest.mark.skipif(
    FFMPEG is None or FFPROBE is None, reason="ffmpeg/ffprobe not installed (make deps-system)"
)
pytestmark = [pytest.mark.slow, needs_ffmpeg]


# --- helpers shared with the other media tests ---------------------------------------------


@dataclass
class Stage:
    """A running app whose media plane listens for RTMP on ``port``."""

    app: RunningApp
    port: int
    media_dir: Path
    studio: str
    pids: set[int]

    def rtmp(self, key: str) -> str:
        """The publish URL of ``key``."""
        return f"rtmp://127.0.0.1:{self.port}/live/{key}"

    def remember_pids(self) -> None:
        """Note every ffmpeg the plane runs now, to check later that none outlives the app."""
        plane = self.app.web_app[MEDIA]
        for session_id in list(plane._pipelines):
            pipeline = plane.pipeline(session_id)
            if pipeline is not None and pipeline.pid is not None:
                self.pids.add(pipeline.pid)


def alive(pid: int) -> bool:
    """Whether a process with ``pid`` still exists (and is not a zombie)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(") ", 1)[1][0] != "Z"
    except (FileNotFoundError, IndexError):
        return False


@contextlib.asynccontextmanager
async def stage(
    tmp_path: Path,
    *,
    ladder: list[int] | None = None,
    max_gop: float | None = None,
    slate: bool = True,
) -> AsyncIterator[Stage]:
    """Start Torget with RTMP on a free port and media under ``tmp_path``; afterwards check
    that no ffmpeg it started is still running."""
    port = free_port()
    settings = settings_for(
        sqlite_url(tmp_path),
        TORGET_MEDIA_RTMP_PORT=str(port),
        TORGET_MEDIA_DATA_DIR=str(tmp_path / "media"),
        TORGET_MEDIA_PRESET="ultrafast",
    )
    if ladder is not None:
        settings.media.ladder_heights = ladder
    if max_gop is not None:
        settings.media.max_passthrough_gop = max_gop
    settings.media.slate = slate
    pids: set[int] = set()
    async with running_app(settings) as app:
        answer = await app.client.post("/api/v1/studios", json={"name": "Hall"}, headers=app.admin)
        assert answer.status == 201
        staged = Stage(app, port, tmp_path / "media", (await answer.json())["id"], pids)
        yield staged
        staged.remember_pids()
    for pid in pids:
        assert not alive(pid), f"ffmpeg {pid} outlived the app"


async def new_session(stage: Stage, title: str, hour: int = 9) -> tuple[str, str]:
    """Schedule a session in the stage's studio; return its id and stream key."""
    body = {
        "studio_id": stage.studio,
        "title": title,
        "starts_at": f"2026-05-20T{hour:02d}:00:00+02:00",
        "ends_at": f"2026-05-20T{hour:02d}:45:00+02:00",
    }
    answer = await stage.app.client.post("/api/v1/sessions", json=body, headers=stage.app.admin)
    assert answer.status == 201, await answer.text()
    created = await answer.json()
    return str(created["id"]), str(created["stream_key"])


def publish_args(url: str, *, size: str = "1280x720", gop: int = 30) -> list[str]:
    """ffmpeg publishing a test pattern with a sine tone, in real time, to ``url``."""
    assert FFMPEG is not None
    return [
        FFMPEG, "-hide_banner", "-nostdin", "-loglevel", "error",
        "-re", "-f", "lavfi", "-i", f"testsrc2=size={size}:rate=30",
        "-re", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
        "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-pix_fmt", "yuv420p",
        "-g", str(gop), "-sc_threshold", "0", "-c:a", "aac", "-b:a", "128000",
        "-f", "flv", url,
    ]  # fmt: skip


@contextlib.asynccontextmanager
async def publisher(url: str, **options: Any) -> AsyncIterator[asyncio.subprocess.Process]:
    """Run a publisher for the block; it is stopped (SIGTERM, then SIGKILL) afterwards."""
    process = await asyncio.create_subprocess_exec(
        *publish_args(url, **options),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        yield process
    finally:
        await stop(process)


async def stop(process: asyncio.subprocess.Process) -> None:
    """End a publisher the way an operator would (SIGTERM), killing it if it lingers."""
    if process.returncode is None:
        process.terminate()
        try:
            await asyncio.wait_for(process.communicate(), 10)
        except TimeoutError:
            process.kill()
            await asyncio.wait_for(process.wait(), 10)


async def state(stage: Stage, session_id: str) -> str:
    """The session's lifecycle state as the API reports it."""
    answer = await stage.app.client.get(f"/api/v1/sessions/{session_id}")
    return str((await answer.json())["state"])


async def fetch(stage: Stage, path: str, status: int = 200) -> tuple[bytes, Any]:
    """GET ``path`` (sent as written, no normalising); assert the status; return body, headers."""
    url = URL(f"http://127.0.0.1:{stage.app.client.port}{path}", encoded=True)
    async with stage.app.client.session.get(url) as answer:
        body = await answer.read()
        assert answer.status == status, (path, answer.status, body[:300])
        return body, answer.headers


async def playlist(stage: Stage, path: str) -> m3u8.M3U8:
    """A playlist, checked against the spec's rules, parsed."""
    body, headers = await fetch(stage, path)
    assert headers["Content-Type"] == PLAYLIST_TYPE
    text = body.decode()
    if "#EXT-X-STREAM-INF" not in text:
        check_media_playlist(text)
    return m3u8.loads(text)


def live_edge(parsed: m3u8.M3U8) -> tuple[int, int]:
    """(MSN, part index) of the last part listed."""
    last = parsed.segments[-1]
    msn = parsed.media_sequence + len(parsed.segments) - 1
    if last.uri is None:
        return msn, len(last.parts) - 1
    return msn, len(last.parts) - 1 if last.parts else -1


# --- the viewer's side -------------------------------------------------------------------------


async def test_viewers_get_ll_hls_of_an_rtmp_publish(tmp_path: Path) -> None:
    """A 720p30 publish makes the session ready and becomes a ladder of LL-HLS renditions:
    spec-conforming playlists with parts, blocking reloads answered when the part lands,
    segments and parts that decode; stopping the publisher ends the playlists."""
    async with stage(tmp_path) as st:
        session_id, key = await new_session(st, "Opening: innovative municipalities")
        hls = f"/hls/{session_id}"
        await fetch(st, f"{hls}/index.m3u8", 404)
        async with publisher(st.rtmp(key)) as pub:
            started = time.monotonic()

            async def ready() -> bool:
                return await state(st, session_id) == "ready"

            await until(ready, timeout=20, what="the session to become ready")
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
            assert [m.uri for m in master.media] == ["audio.m3u8"]

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
