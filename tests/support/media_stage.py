"""A running Torget with its media plane on loopback, and an ffmpeg publisher for it."""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import m3u8  # type: ignore[import-untyped]
from yarl import URL

from tests.support.harness import RunningApp, running_app, settings_for, sqlite_url
from tests.support.hls_checks import check_media_playlist
from tests.support.media_tools import FFMPEG
from tests.support.servers import free_port
from tests.support.waiting import until
from web.keys import MEDIA

PLAYLIST_TYPE = "application/vnd.apple.mpegurl"


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
    interpretations: list[str] | None = None,
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
    if interpretations is not None:
        settings.interpretation.languages = interpretations
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
    """Schedule a session in the stage's studio; return its id and stream key. It does not
    start by itself: the stage's clock stands at 09:00, where an auto-starting session would
    go live as its publisher connects, and the tests take it live when they mean to."""
    body = {
        "studio_id": stage.studio,
        "title": title,
        "starts_at": f"2026-05-20T{hour:02d}:00:00+02:00",
        "ends_at": f"2026-05-20T{hour:02d}:45:00+02:00",
        "auto_start": False,
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


async def replay_published(stage: Stage, session_id: str, timeout: float = 90) -> None:
    """Wait until the ended session's replay is published (its state is ``replay``)."""

    async def published() -> bool:
        return await state(stage, session_id) == "replay"

    await until(published, timeout=timeout, what="the replay to be published")


async def start_broadcast(stage: Stage, session_id: str) -> None:
    """Wait until the publish made the session ready, then start the broadcast."""

    async def ready() -> bool:
        return await state(stage, session_id) == "ready"

    await until(ready, timeout=30, what="the session to become ready")
    answer = await stage.app.client.post(
        f"/api/v1/sessions/{session_id}/live", headers=stage.app.admin
    )
    assert answer.status == 200, await answer.text()


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


async def error_of(answer: Any) -> tuple[int, str, str]:
    """Status, error code and message of a JSON error answer."""
    body = await answer.json()
    return answer.status, body["error"]["code"], body["error"]["message"]


def probe_hls(st: Stage, path: str) -> list[dict[str, Any]]:
    """The streams ffprobe finds behind an HLS playlist of the stage (blocking: run it in a
    thread while the app serves)."""
    assert FFMPEG is not None
    ffprobe = str(Path(FFMPEG).with_name("ffprobe"))
    args = [
        ffprobe,
        "-v",
        "error",
        "-show_streams",
        "-of",
        "json",
        str(st.app.client.make_url(path)),
    ]
    done = subprocess.run(args, capture_output=True, check=True, timeout=30, text=True)
    streams: list[dict[str, Any]] = json.loads(done.stdout)["streams"]
    return streams
