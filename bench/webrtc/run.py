"""Run the WebRTC playback benchmark (``python -m bench --only webrtc``).

1. Cost per viewer: a Torget node (passthrough HLS only) gets a looped 720p clip over RTMP; a
   viewer process (``bench.webrtc.viewers``, not decoding) connects 1, 10, 50 and 100 WHEP peers.
   The Torget process's CPU (``/proc``) is measured over a steady window, with its RSS, and
   the same window with no viewers as the baseline.
2. The figure to beat: what one decode + encode of that stream costs (PyAV H.264 decode and
   aiortc's own ``H264Encoder``, the encode ``MediaRelay`` would run per viewer), measured in
   this process over the clip's frames and multiplied by the viewer count.
3. Glass-to-glass latency: the stamped publisher (``bench.media.publisher``: the wall clock
   burned into each picture) publishes 720p over RTMP; one decoding WHEP viewer reads the
   clock back from each decoded picture.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.fanout.procstat import cpu_seconds, rss_bytes
from bench.fanout.servers import REPO, Unavailable, stop_process
from bench.media.commands import clip_args, loop_args, publisher_args, relay_args
from bench.media.server import MediaServer

Say = Callable[[str], None]
BITRATE = 2_500_000
LOG_NAME = "torget-bench-webrtc.log"  # the node's log, kept in the temp directory


@dataclass(frozen=True)
class Plan:
    """What to measure."""

    viewers: tuple[int, ...] = (1, 10, 50, 100)
    window: float = 10.0
    warmup: float = 3.0
    latency_seconds: float = 15.0
    clip_seconds: int = 10


QUICK = Plan(viewers=(1, 10), window=5.0, latency_seconds=8.0)


@dataclass
class Row:
    """One viewer count's measurement."""

    viewers: int
    cpu: float  # cores, Torget process
    rss: int  # bytes
    fps: float  # video frames per second per viewer, as received
    mbps: float  # received video Mbit/s per viewer
    load: float  # the machine's 1-minute load average after the window


@dataclass
class Result:
    """Everything the report prints."""

    baseline_cpu: float = 0.0
    baseline_rss: int = 0
    rows: list[Row] = field(default_factory=list)
    transcode: float = 0.0  # cores per viewer for decode + encode
    encode_only: float = 0.0  # cores per viewer for the encode alone (MediaRelay)
    latencies: list[float] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def ffmpeg() -> str:
    """The ffmpeg to run."""
    from streaming.plane import find_ffmpeg

    return find_ffmpeg("")


def load_average() -> float:
    """The 1-minute load average (other work on the machine shows up here)."""
    return float(Path("/proc/loadavg").read_text().split()[0])


async def _measure(pid: int, seconds: float) -> tuple[float, int]:
    before = cpu_seconds(pid)
    start = time.monotonic()
    await asyncio.sleep(seconds)
    used = cpu_seconds(pid) - before
    return used / (time.monotonic() - start), rss_bytes(pid)


async def _viewers(url: str, count: int, *extra: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.webrtc.viewers", url, str(count), *extra,
        cwd=REPO, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip


async def _ready(proc: asyncio.subprocess.Process, within: float) -> None:
    assert proc.stdout is not None
    line = await asyncio.wait_for(proc.stdout.readline(), within)
    if not line.startswith(b"ready"):
        err = b""
        if proc.stderr is not None:
            err = await proc.stderr.read()
        raise Unavailable(f"viewers did not connect: {err.decode(errors='replace')[-300:]}")


async def _finish(proc: asyncio.subprocess.Process) -> dict[str, Any]:
    proc.terminate()
    out, _ = await asyncio.wait_for(proc.communicate(), 60)
    lines = out.decode().strip().splitlines()
    data: dict[str, Any] = json.loads(lines[-1])
    return data


def transcode_cost(clip: Path, frames: int = 90) -> tuple[float, float]:
    """Cores per viewer for (decode + encode, encode alone) of ``clip``'s 30 fps video."""
    import av
    from aiortc.codecs.h264 import H264Encoder

    container: Any = av.open(str(clip))
    stream = container.streams.video[0]
    packets = []
    for packet in container.demux(stream):
        if packet.size:
            packets.append(packet)
        if len(packets) >= frames:
            break
    decoder: Any = av.CodecContext.create("h264", "r")
    decoder.extradata = stream.codec_context.extradata
    started = time.process_time()
    decoded = [f for p in packets for f in decoder.decode(p)]
    decode = time.process_time() - started
    container.close()
    encoder = H264Encoder()
    started = time.process_time()
    for frame in decoded:
        encoder.encode(frame)
    encode = time.process_time() - started
    seconds = len(decoded) / 30
    return (decode + encode) / seconds, encode / seconds


async def run_async(plan: Plan, say: Say) -> Result:
    """Measure (see the module docstring)."""
    result = Result()
    work = Path(tempfile.mkdtemp(prefix="torget-bench-webrtc-"))
    server = MediaServer(work / "node", ladder=())
    publisher: asyncio.subprocess.Process | None = None
    try:
        clip = work / "clip.mp4"
        make = await asyncio.create_subprocess_exec(
            *clip_args(ffmpeg(), clip, 720, plan.clip_seconds, BITRATE)
        )
        await make.wait()
        result.transcode, result.encode_only = await asyncio.to_thread(transcode_cost, clip)
        say(f"decode+encode per viewer: {result.transcode:.2f} cores")
        await server.start()
        session_id, key = await server.new_session("WebRTC benchmark")
        publisher = await asyncio.create_subprocess_exec(
            *loop_args(ffmpeg(), clip, server.rtmp_url(key)),
            stdin=asyncio.subprocess.DEVNULL,
        )
        url = f"{server.base}/whep/{session_id}"
        await asyncio.sleep(5)
        result.baseline_cpu, result.baseline_rss = await _measure(server.pid, plan.window)
        say(f"no viewers: {result.baseline_cpu:.3f} cores, {result.baseline_rss >> 20} MiB")
        for count in plan.viewers:
            proc = await _viewers(url, count)
            try:
                await _ready(proc, 60 + count)
                await asyncio.sleep(plan.warmup)
                cpu, rss = await _measure(server.pid, plan.window)
            finally:
                data = await _finish(proc)
            window = max(plan.window + plan.warmup, 1.0)  # the counts start at "ready"
            fps = data["video_frames"] / count / window
            mbps = data["video_bytes"] * 8 / count / window / 1e6
            result.rows.append(Row(count, cpu, rss, fps, mbps, load_average()))
            say(f"{count} viewers: {cpu:.3f} cores, {rss >> 20} MiB, {fps:.1f} fps/viewer")
            await asyncio.sleep(2)
        await stop_process(publisher)
        publisher = None
        result.latencies = await _latency(server, plan, say)
    finally:
        if publisher is not None:
            await stop_process(publisher)
        await server.stop()
        with contextlib.suppress(OSError):
            shutil.copy(work / "node" / "torget.log", Path(tempfile.gettempdir()) / LOG_NAME)
        shutil.rmtree(work, ignore_errors=True)
    return result


async def _latency(server: MediaServer, plan: Plan, say: Say) -> list[float]:
    session_id, key = await server.new_session("WebRTC latency")
    read_end, write_end = os.pipe()
    try:
        source = await asyncio.create_subprocess_exec(
            *publisher_args(sys.executable, (1280, 720), 30, 1.0),
            cwd=REPO, stdin=asyncio.subprocess.DEVNULL, stdout=write_end,
        )  # fmt: skip
        relay = await asyncio.create_subprocess_exec(
            *relay_args(ffmpeg(), server.rtmp_url(key)), stdin=read_end
        )
    finally:
        os.close(read_end)
        os.close(write_end)
    try:
        await asyncio.sleep(5)
        proc = await _viewers(f"{server.base}/whep/{session_id}", 1, "--stamps")
        try:
            await _ready(proc, 60)
            await asyncio.sleep(plan.latency_seconds)
        finally:
            data = await _finish(proc)
        latencies: list[float] = data["latencies_ms"]
        if latencies:
            say(f"latency: median {statistics.median(latencies):.0f} ms")
        return latencies
    finally:
        await stop_process(relay)
        await stop_process(source)


def run(plan: Plan, say: Say = print) -> Result:
    """Run the benchmark."""
    return asyncio.run(run_async(plan, say))
