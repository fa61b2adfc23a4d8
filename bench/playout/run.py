"""Run the playout benchmark (``python -m bench --only playout``).

A Torget node (passthrough only) records a 720p session published over RTMP; once its replay
is published the studio turns playout on and HLS players in this process follow the channel's
stable address (``/hls/c/{studio}/``) as a player does: both media playlists every second and
every new segment and init segment. The Torget process's CPU (``/proc``) is measured over a
steady window with 1 and more players, and the same window with none as the baseline; the
node's child processes are counted too (playout is stream copy: no ffmpeg may run for it).
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from bench.fanout.procstat import cpu_seconds
from bench.fanout.servers import Unavailable, stop_process
from bench.media.commands import clip_args, loop_args
from bench.media.server import MediaServer

Say = Callable[[str], None]
BITRATE = 2_500_000


@dataclass(frozen=True)
class Plan:
    """What to measure."""

    players: tuple[int, ...] = (1, 20, 100)
    window: float = 15.0
    recorded_seconds: float = 20.0


QUICK = Plan(players=(1, 20), window=8.0, recorded_seconds=12.0)


@dataclass
class Row:
    """One player count's measurement."""

    players: int
    cpu: float  # cores, the Torget process
    segments_per_second: float  # fetched by all players together
    children: int  # processes Torget ran during the window (ffmpeg)


@dataclass
class Result:
    """Everything the report needs."""

    baseline_cpu: float = 0.0
    rows: list[Row] = field(default_factory=list)
    skipped: str = ""


async def _player(
    http: aiohttp.ClientSession, base: str, stop: asyncio.Event, got: list[int]
) -> None:
    """Follow the channel like an HLS player: playlists each second, each segment it has not
    played yet from three before the live edge on (by media sequence number: a looped replay
    lists the same files again) and each init segment once."""
    inits: set[str] = set()
    played = {"source.m3u8": -1, "audio.m3u8": -1}
    origin = base.split("/hls/")[0]
    while not stop.is_set():
        for name in played:
            async with http.get(f"{base}/{name}") as answer:
                text = await answer.text() if answer.status == 200 else ""
            msn = 0
            wanted: list[str] = []
            listed: list[tuple[int, str]] = []
            for line in text.splitlines():
                if line.startswith("#EXT-X-MEDIA-SEQUENCE:"):
                    msn = int(line.split(":", 1)[1])
                elif line.startswith("#EXT-X-MAP") and (uri := line.split('"')[1]) not in inits:
                    inits.add(uri)
                    wanted.append(uri)
                elif line.startswith("/hls/"):
                    listed.append((msn, line))
                    msn += 1
            if played[name] < 0 and listed:  # a player starts three segments from the edge
                played[name] = listed[-1][0] - 3
            for number, uri in listed:
                if number > played[name]:
                    played[name] = number
                    wanted.append(uri)
            for uri in wanted:
                async with http.get(origin + uri) as answer:
                    await answer.read()
                got[0] += 1
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 1.0)


async def _measure(server: MediaServer, base: str, players: int, window: float) -> Row:
    stop = asyncio.Event()
    got = [0]
    async with aiohttp.ClientSession() as http:
        tasks = [asyncio.create_task(_player(http, base, stop, got)) for _ in range(players)]
        await asyncio.sleep(3.0)  # warm up: every player has its first window
        got[0] = 0
        before, started = cpu_seconds(server.pid), time.monotonic()
        children = len(server.ffmpeg_pids())
        await asyncio.sleep(window)
        children = max(children, len(server.ffmpeg_pids()))
        cpu = (cpu_seconds(server.pid) - before) / (time.monotonic() - started)
        rate = got[0] / (time.monotonic() - started)
        stop.set()
        await asyncio.gather(*tasks)
    return Row(players=players, cpu=cpu, segments_per_second=rate, children=children)


async def _run(plan: Plan, say: Say) -> Result:
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        return Result(skipped="no ffmpeg on this machine")
    result = Result()
    with tempfile.TemporaryDirectory(prefix="torget-bench-playout-") as tmp:
        workdir = Path(tmp)
        clip = workdir / "clip.mp4"
        encode = await asyncio.create_subprocess_exec(*clip_args(ffmpeg, clip, 720, 10, BITRATE))
        await encode.wait()
        server = MediaServer(workdir / "node", ladder=())
        await server.start()
        try:
            session_id, key = await server.new_session("Recorded for playout")
            async with aiohttp.ClientSession(
                headers={"Authorization": f"Bearer {server.token}"}
            ) as api:
                base = server.base
                publisher = await asyncio.create_subprocess_exec(
                    *loop_args(ffmpeg, clip, server.rtmp_url(key)),
                    stdin=asyncio.subprocess.DEVNULL,
                    stdout=asyncio.subprocess.DEVNULL,
                    stderr=asyncio.subprocess.DEVNULL,
                )
                session = await _state(api, base, session_id, ("ready", "live"), 30)
                await api.post(f"{base}/api/v1/sessions/{session_id}/live")
                say(f"playout: recording {plan.recorded_seconds:.0f} s")
                await asyncio.sleep(plan.recorded_seconds)
                await api.post(f"{base}/api/v1/sessions/{session_id}/end")
                await stop_process(publisher, grace=5)
                await _state(api, base, session_id, ("replay",), 120)
                studio = session["studio_id"]
                await api.patch(f"{base}/api/v1/studios/{studio}", json={"playout": True})
                channel = f"{base}/hls/c/{studio}"
                baseline = await _measure(server, channel, 0, plan.window)
                result.baseline_cpu = baseline.cpu
                for players in plan.players:
                    row = await _measure(server, channel, players, plan.window)
                    say(f"playout: {players} players: {row.cpu:.3f} cores")
                    result.rows.append(row)
        finally:
            await server.stop()
    return result


async def _state(
    api: aiohttp.ClientSession, base: str, session_id: str, wanted: tuple[str, ...], within: float
) -> dict[str, str]:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        async with api.get(f"{base}/api/v1/sessions/{session_id}") as answer:
            session: dict[str, str] = await answer.json()
        if session["state"] in wanted:
            return session
        await asyncio.sleep(0.5)
    raise Unavailable(f"session {session_id} did not reach {wanted} within {within:.0f} s")


def run(plan: Plan, say: Say = print) -> Result:
    """Run the benchmark; an unavailable node or ffmpeg is reported, not raised."""
    try:
        return asyncio.run(_run(plan, say))
    except Unavailable as exc:
        return Result(skipped=str(exc))
